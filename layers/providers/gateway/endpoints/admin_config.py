"""The runtime configuration's admin routes (IAM-authorised in API Gateway): read it, store a new version (`PUT` the
whole document, `PATCH` some fields) under `If-Match`, list the versions, roll back to one.

A document holds only what differs from the environment, by environment names (`{"AI_PRIMARY_PROVIDER": "vllm"}`);
`null` in a `PATCH` (or a `PUT`) gives a setting back to the environment. A new document is validated over this
function's environment by the settings model itself (`422` naming each field, nothing stored), stored as the next
version only while `If-Match` names the version in force (`412` otherwise; `*` takes whatever is in force), applied
here at once, and by every instance within `CONFIG_MAX_AGE_SECONDS`. Every change is logged with the caller's IAM
principal and kept in the history with what it changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.config.runtime import RUNTIME_NAMES, in_force
from gateway.config.settings import Settings, environment_settings, with_overrides
from gateway.core import clock
from gateway.core.errors import (
    ConfigurationError,
    FieldsInvalidError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
)
from gateway.observability import logger
from gateway.stores.runtime_config import ConfigVersion, RuntimeConfigStore, StaleVersionError

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
HISTORY_LIMIT = 100


class ConfigOut(BaseModel):
    version: int = Field(description="the version in force (0: none stored, the environment alone); also the ETag")
    updated_at: float | None = Field(description="when it was stored (epoch seconds)")
    updated_by: str | None = Field(description="the IAM principal that stored it")
    document: dict[str, Any] = Field(description="what the version sets, by environment name")
    settings: dict[str, Any] = Field(
        description="every runtime setting as it applies: the document over the environment"
    )


class ConfigVersionOut(BaseModel):
    version: int
    updated_at: float
    updated_by: str
    action: str = Field(description="put, patch or rollback")
    changed: list[str] = Field(description="the settings whose value this version changed")
    restored: int | None = Field(None, description="a rollback: the version whose document it restored")


class ConfigHistory(BaseModel):
    versions: list[ConfigVersionOut] = Field(description="newest first")


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=999_999_999, strict=True, description="the version whose document to restore")


def document_schema() -> dict[str, Any]:
    """The JSON schema of a document (OpenAPI): each runtime setting as the settings model describes it, or null."""
    properties = Settings.model_json_schema(by_alias=True)["properties"]
    fields = {name: {"anyOf": [properties[name], {"type": "null"}]} for name in RUNTIME_NAMES}
    return {"type": "object", "properties": fields, "additionalProperties": False}


def etag(version: int) -> str:
    return f'"{version}"'


def current() -> ConfigOut:
    """`GET /v1/admin/config`: the version in force, read from the table (not this instance's cache)."""
    return _out(_store().head())


def history(limit: int = HISTORY_LIMIT) -> ConfigHistory:
    """`GET /v1/admin/config/history`: the newest `limit` versions, who stored each, when, and what it changed."""
    store = _store()
    versions = store.history(store.head().version, limit)
    return ConfigHistory(versions=[_version_out(v) for v in versions])


def put(document: Mapping[str, Any], if_match: str | None, who: str) -> ConfigOut:
    """`PUT /v1/admin/config`: this document (nulls left out) as the next version."""
    return _store_next(lambda head: _without_nulls(document), if_match, who, "put")


def patch(changes: Mapping[str, Any], if_match: str | None, who: str) -> ConfigOut:
    """`PATCH /v1/admin/config`: a JSON merge patch (RFC 7396) of the version in force as the next version."""
    return _store_next(lambda head: _without_nulls({**head.document, **changes}), if_match, who, "patch")


def rollback(body: Rollback, if_match: str | None, who: str) -> ConfigOut:
    """`POST /v1/admin/config/rollback`: an earlier version's document as the next version (the history keeps all)."""
    store = _store()
    earlier = store.version(body.version)
    if earlier is None:
        raise NotFoundError(f"no configuration version {body.version}")
    restore = dict(earlier.document)
    return _store_next(lambda head: restore, if_match, who, "rollback", restored=body.version, required=False)


def _store_next(
    make: Callable[[ConfigVersion], dict[str, Any]],
    if_match: str | None,
    who: str,
    action: str,
    restored: int | None = None,
    required: bool = True,
) -> ConfigOut:
    store = _store()
    expected = _expected_version(if_match) if required or (if_match and if_match.strip()) else None
    head = store.head()
    if expected is not None and expected != head.version:
        raise _stale(head.version, expected)
    document: dict[str, Any] = make(head)
    with_overrides(environment_settings(), document)  # FieldsInvalidError naming each field: nothing is stored
    changed = sorted(name for name in {*document, *head.document} if document.get(name) != head.document.get(name))
    new = ConfigVersion(0, document, clock.wall(), who, action, changed, restored)
    try:
        stored = store.store(head.version, new)
    except StaleVersionError as exc:  # another admin stored a version between our read and our write
        raise _stale(exc.current, head.version) from None
    settings = environment_settings()
    assert settings.state_table is not None
    in_force.learn(settings.state_table, stored, settings.config_max_age_s)
    logger.info(
        "runtime configuration changed",
        extra={"admin": who, "action": action, "version": stored.version, "changed": changed, "restored": restored},
    )
    return _out(stored)


def _expected_version(if_match: str | None) -> int | None:
    """The version `If-Match` names (None for `*`); 428 without one, 422 for one that is not a version."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequiredError(
            'a change names the version it changes: send If-Match with the ETag of GET /v1/admin/config (e.g. "3"), '
            "or * for whatever is in force"
        )
    if if_match.strip() == "*":
        return None
    found = _ETAG.match(if_match)
    if found is None:
        problem = [{"field": "If-Match", "message": 'must be a version\'s ETag (e.g. "3") or *'}]
        raise FieldsInvalidError(f"invalid request: If-Match: {problem[0]['message']}", details=problem)
    return int(found.group(1))


def _stale(current: int, expected: int) -> PreconditionFailedError:
    return PreconditionFailedError(
        f"the configuration is at version {current}, not {expected}: read it again and reapply the change",
        details={"version": current},
        headers={"ETag": etag(current)},
    )


def _without_nulls(document: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in document.items() if value is not None}


def _out(version: ConfigVersion) -> ConfigOut:
    applied = environment_settings()
    try:
        applied = with_overrides(applied, version.document) if version.document else applied
    except FieldsInvalidError as exc:  # stored over another environment: what applies here is the environment
        logger.error("runtime configuration not applicable here", extra={"error": exc.message})
    values = applied.model_dump(mode="json", by_alias=True)
    return ConfigOut(
        version=version.version,
        updated_at=version.updated_at or None,
        updated_by=version.updated_by or None,
        document=dict(version.document),
        settings={name: values[name] for name in RUNTIME_NAMES},
    )


def _version_out(version: ConfigVersion) -> ConfigVersionOut:
    return ConfigVersionOut(
        version=version.version, updated_at=version.updated_at, updated_by=version.updated_by,
        action=version.action, changed=list(version.changed), restored=version.restored,
    )  # fmt: skip


def _store() -> RuntimeConfigStore:
    table = environment_settings().state_table
    if not table:
        raise ConfigurationError("PROVIDER_STATE_TABLE is not set: the runtime configuration has nowhere to live")
    return RuntimeConfigStore(table)
