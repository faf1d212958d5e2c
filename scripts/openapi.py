"""The OpenAPI documents of the functions, generated from their FastAPI apps and checked in under `openapi/`.

    .venv/bin/python -m scripts.openapi --write   # (re)generate openapi/<function>.json
    .venv/bin/python -m scripts.openapi --check   # exit 1, with a diff, when the code and the files differ

Each function's `app.py` is imported the way the local runtime imports it (`dev.lambda_runtime`); functions
without HTTP routes (the training consumer) have no document. FastAPI documents the request and answer
models; this script adds what FastAPI cannot see: the gateway's one error shape
(`{"error": {"code", "message", "request_id", "details"?}}`, see `gateway.http.errors.error_response`) in place
of FastAPI's default 422 body, and the error statuses each operation can answer with:

- 422 (`validation_error`, `invalid_request`) for every operation that takes input;
- 400 (`invalid_encoding`), 413 (`payload_too_large`) and 415 (`unsupported_media_type`) for every operation with a
  body (`gateway.http.body`: a body is UTF-8 JSON declared as such);
- 404 (`not_found`) for every operation with a path parameter;
- 429, 502, 503, 504 (the provider chain's errors) for every operation answering a `ProviderAnswer`;
- whatever error statuses a route declares itself (`responses=` in its decorator: 412 and 428 for a change under
  `If-Match`, 404 for a rollback to a version that does not exist).

500 (`configuration_error`, `internal_error`) is a broken deployment, not part of the contract: the
fuzz tests (tests/contract) fail on any 5xx that is not one of the chain's documented ones.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from dev.lambda_runtime import FUNCTIONS, REPO_ROOT, load_handler, use_layer

use_layer()

from gateway.core.strict_json import MAX_JSON_DEPTH  # noqa: E402 - the layer goes on sys.path first

OPENAPI_DIR = REPO_ROOT / "openapi"
REGENERATE = ".venv/bin/python -m scripts.openapi --write  (or: make openapi)"
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
_REF = "#/components/schemas/{model}"


class ErrorBody(BaseModel):
    """What went wrong. `code` is stable; `message` is for people."""

    model_config = ConfigDict(title="ErrorBody")

    code: str = Field(description="A stable code, e.g. validation_error, all_providers_failed, deadline_exceeded")
    message: str = Field(description="What went wrong, naming the field at fault for invalid input")
    request_id: str = Field(description="The correlation id, also in the X-Request-Id header")
    details: Any = Field(
        None,
        description="422: the fields at fault ([{field, message}]); 429/502/503/504: {attempts: [...]}, as answered",
    )


class ErrorResponse(BaseModel):
    """Every error the gateway answers with."""

    error: ErrorBody


class OpenAiErrorBody(BaseModel):
    """What went wrong, in OpenAI's shape (OpenAI clients parse it)."""

    model_config = ConfigDict(title="OpenAiErrorBody")

    message: str = Field(description="What went wrong, naming the field at fault for invalid input")
    type: str = Field(description="invalid_request_error, authentication_error, rate_limit_error, server_error, ...")
    param: str | None = Field(description="The field at fault, when one is")
    code: str = Field(description="A stable code: unsupported_parameter, model_not_found, all_providers_failed, ...")
    request_id: str = Field(description="The correlation id, also in the X-Request-Id header")
    attempts: list[dict[str, Any]] | None = Field(None, description="502/503/504: the provider attempts")


class OpenAiErrorResponse(BaseModel):
    """Every error the OpenAI-compatible function answers with."""

    error: OpenAiErrorBody


# The OpenAI-compatible function answers in OpenAI's error shape, with OpenAI's statuses (400 for invalid input).
_OPENAI_FUNCTIONS = {"chat"}
_OPENAI_STATUSES = {
    ("POST", "/v1/chat/completions"): [400, 404, 413, 415, 429, 502, 503, 504],
    ("GET", "/v1/models/{model}"): [400, 404],
    ("POST", "/v1/embeddings"): [400, 404, 413, 415, 502],
}
_OPENAI_DESCRIPTIONS = {
    400: "Invalid input, or a field the gateway cannot honour (`param` names it), or a body that is not UTF-8",
    404: "An unknown model (`model_not_found`)",
}


def function_apps() -> dict[str, FastAPI]:
    """Each function's module-level FastAPI `app`, by function name; functions without one are skipped."""
    apps: dict[str, FastAPI] = {}
    for function in FUNCTIONS:
        load_handler(function)
        module = sys.modules[f"lambda_functions.{function}.app"]
        app = getattr(module, "app", None)
        if isinstance(app, FastAPI) and any(isinstance(route, APIRoute) for route in app.routes):
            apps[function] = app
    return apps


def _error_statuses() -> dict[int, list[str]]:
    """The gateway's error codes by HTTP status, from its domain errors (`gateway.core.errors`)."""
    from gateway.core import errors

    by_status: dict[int, list[str]] = {422: ["validation_error"]}
    for error in (
        errors.InvalidRequestError, errors.PayloadTooLargeError, errors.JobNotFoundError,
        errors.BodyEncodingError, errors.UnsupportedMediaTypeError,
        errors.SpendCapReachedError, errors.AllProvidersFailedError, errors.NoProviderConfiguredError,
        errors.ProvidersUnavailableError, errors.DeadlineExceededError, errors.StoreUnavailableError,
        errors.PreconditionFailedError, errors.PreconditionRequiredError, errors.KeyBudgetExhaustedError,
    ):  # fmt: skip
        by_status.setdefault(error.status_code, []).append(error.code)
    return by_status


_CHAIN_STATUSES = (429, 502, 503, 504)
_BODY_RULES = (
    f". Besides each field's own rules, a body may not give a key twice, nest deeper than {MAX_JSON_DEPTH} levels, "
    "or hold a control character other than tab, line feed and carriage return in any string"
)
_DESCRIPTIONS = {
    400: "The body is not valid UTF-8",
    404: "Not found",
    412: "`If-Match` names a version that is no longer in force: nothing was changed (`ETag`: the one in force)",
    413: "The body is over MAX_BODY_BYTES",
    415: "The body is not declared as JSON: `Content-Type: application/json` (or `application/<type>+json`), UTF-8",
    422: "Invalid input; `details` names each field at fault",
    428: "A change must name the version it changes: `If-Match` with the `ETag` of the version (or `*`)",
    429: "The daily spend cap, or the API key's own daily budget (`Retry-After`: its reset), holds back every "
    "provider that could answer",
    502: "Every provider failed; `details.attempts` lists the attempts",
    503: "No provider is configured, every circuit is open or the spend ledger cannot be written; or a store the "
    "request needs is unavailable (send it again)",
    504: "The request's deadline ran out; `details.attempts` lists the attempts so far",
}


def _statuses_for(route: APIRoute) -> list[int]:
    from gateway.endpoints.answers import ProviderAnswer

    statuses = []
    has_input = route.body_field is not None or bool(route.dependant.query_params or route.dependant.path_params)
    if has_input:
        statuses.append(422)
    if route.body_field is not None:
        statuses.extend((400, 413, 415))
    if route.dependant.path_params:
        statuses.append(404)
        statuses.append(503)  # the store it reads from is unavailable
    if route.status_code == 202:
        statuses.append(503)  # the accepted work could not be stored or queued
    model = route.response_model
    if isinstance(model, type) and issubclass(model, ProviderAnswer):
        statuses.extend(_CHAIN_STATUSES)
    statuses.extend(int(status) for status in route.responses if int(status) >= 400)
    return sorted(set(statuses))


def document(app: FastAPI, openai_shape: bool = False) -> dict[str, Any]:
    """The app's OpenAPI document with the gateway's error shape and error statuses (OpenAI's, for the
    OpenAI-compatible function)."""
    doc = copy.deepcopy(app.openapi())
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERROR_SCHEMAS:
        schemas.pop(name, None)
    shape = OpenAiErrorResponse if openai_shape else ErrorResponse
    error_schema = shape.model_json_schema(ref_template=_REF)
    schemas.update(error_schema.pop("$defs", {}))
    schemas[shape.__name__] = error_schema
    codes = _error_statuses()
    error_content = {"application/json": {"schema": {"$ref": _REF.format(model=shape.__name__)}}}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods or ()):
            operation = doc["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            if openai_shape:
                responses.pop("422", None)  # OpenAI answers invalid input with 400
            statuses = _OPENAI_STATUSES.get((method, route.path_format), []) if openai_shape else _statuses_for(route)
            for status in statuses:
                listed = ", ".join(f"`{code}`" for code in codes.get(status, []))
                description = _DESCRIPTIONS[status] + (f" ({listed})" if listed else "")
                if openai_shape and status in _OPENAI_DESCRIPTIONS:
                    description = _OPENAI_DESCRIPTIONS[status]
                if status == 422 and route.body_field is not None:
                    description += _BODY_RULES
                responses[str(status)] = {"description": description, "content": error_content}
    text = json.dumps(doc)
    for name in _FASTAPI_ERROR_SCHEMAS:
        if f'"#/components/schemas/{name}"' in text:
            raise RuntimeError(f"{name} is still referenced: an error response was not replaced")
    return doc


def render(doc: dict[str, Any]) -> str:
    """The stable text of a document: sorted keys, two-space indent, a final newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> dict[str, str]:
    """`openapi/<function>.json` file names and their text, as the code stands."""
    return {
        f"{function}.json": render(document(app, openai_shape=function in _OPENAI_FUNCTIONS))
        for function, app in function_apps().items()
    }


def differences(directory: Path = OPENAPI_DIR) -> list[str]:
    """A unified diff per document that differs from (or is missing in, or is extra in) `directory`."""
    expected = generated()
    present = {path.name for path in directory.glob("*.json")} if directory.is_dir() else set()
    out: list[str] = []
    for name in sorted(set(expected) | present):
        path = directory / name
        current = path.read_text() if name in present else ""
        wanted = expected.get(name, "")
        if current != wanted:
            rel = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
            diff = difflib.unified_diff(
                current.splitlines(keepends=True), wanted.splitlines(keepends=True),
                fromfile=f"{rel} (checked in)", tofile=f"{rel} (from the code)",
            )  # fmt: skip
            out.append("".join(diff) or f"{rel}: differs\n")
    return out


def write(directory: Path = OPENAPI_DIR) -> list[Path]:
    """Write every document; remove documents of functions that no longer have HTTP routes."""
    directory.mkdir(parents=True, exist_ok=True)
    documents = generated()
    written = []
    for name, text in documents.items():
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    for stale in _stale(directory, documents):
        stale.unlink()
        written.append(stale)
    return written


def _stale(directory: Path, documents: Iterable[str]) -> list[Path]:
    return [path for path in sorted(directory.glob("*.json")) if path.name not in set(documents)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.openapi", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate openapi/<function>.json")
    mode.add_argument("--check", action="store_true", help="fail with a diff when the checked-in documents differ")
    args = parser.parse_args(argv)
    if args.write:
        changed = write()
        for path in changed:
            print(f"updated {path.relative_to(REPO_ROOT)}")
        print(f"{len(changed)} document(s) changed in {OPENAPI_DIR.relative_to(REPO_ROOT)}/")
        return 0
    diffs = differences()
    if diffs:
        sys.stdout.write("".join(diffs))
        print(f"\nThe OpenAPI documents differ from the code. Regenerate them with:\n  {REGENERATE}")
        return 1
    print(f"OpenAPI documents in {OPENAPI_DIR.relative_to(REPO_ROOT)}/ match the code")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
