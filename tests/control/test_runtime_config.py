"""The runtime configuration through the real handlers: `GET`, `PUT` and `PATCH /v1/admin/config` with `If-Match`,
the history, a rollback, and the route answering by what is in force (no redeploy, no new environment)."""

from __future__ import annotations

import itertools

from tests.conftest import Gateway
from tests.control.admin import ADMIN_ARN, admin, route
from tests.observability.capture import Capture

_prompts = itertools.count()


def _prompt() -> str:
    return f"Say hello to visitor {next(_prompts)} in one sentence."


def test_without_a_stored_version_the_environment_is_in_force_as_version_0(cloud: Gateway) -> None:
    # When the admin reads the configuration before anything was stored
    answer = admin(cloud, "GET", "/v1/admin/config")
    # Then it is version 0: nothing over the environment, whose values it shows
    assert answer.status == 200
    assert answer.headers["etag"] == '"0"'
    assert answer.body["version"] == 0
    assert answer.body["document"] == {}
    assert answer.body["settings"]["AI_PRIMARY_PROVIDER"] == "gemini"
    assert answer.body["settings"]["SLM_MODE"] == "local"


def test_a_patch_switches_the_primary_provider_and_the_next_answer_comes_from_it(
    cloud: Gateway, captured: Capture
) -> None:
    # Given Gemini answering, as the environment says
    assert route(cloud, _prompt()).body["provider"] == "gemini"
    # When the admin switches the primary provider at runtime
    answer = admin(cloud, "PATCH", "/v1/admin/config", {"AI_PRIMARY_PROVIDER": "vllm"}, if_match='"0"')
    # Then it is stored as version 1, and the next answer comes from Hugging Face
    assert answer.status == 200, answer.body
    assert answer.headers["etag"] == '"1"'
    assert answer.body["document"] == {"AI_PRIMARY_PROVIDER": "vllm"}
    assert answer.body["updated_by"] == ADMIN_ARN
    following = route(cloud, _prompt())
    assert following.body["provider"] == "huggingface"
    assert "AI_PRIMARY_PROVIDER=vllm" in following.body["routing"]["reason"]
    # And GET /v1/status says which version is in force
    status = admin(cloud, "GET", "/v1/status").body
    assert status["config"]["version"] == 1
    # And the change is logged with the caller's identity and what it changed
    logged = captured.read().messages("runtime configuration changed")
    assert [(line["admin"], line["version"], line["changed"]) for line in logged] == [
        (ADMIN_ARN, 1, ["AI_PRIMARY_PROVIDER"])
    ]


def test_a_write_against_a_stale_version_is_412_and_changes_nothing(cloud: Gateway) -> None:
    # Given two admins who both read version 0, and the first stored version 1
    first = admin(cloud, "PATCH", "/v1/admin/config", {"AI_USE_VLLM_BACKUP": False}, if_match='"0"')
    assert first.status == 200
    # When the second writes against version 0
    second = admin(cloud, "PATCH", "/v1/admin/config", {"AI_PRIMARY_PROVIDER": "vllm"}, if_match='"0"')
    # Then it is refused with the version in force, and nothing of it is applied
    assert second.status == 412
    assert second.body["error"]["code"] == "precondition_failed"
    assert second.headers["etag"] == '"1"'
    current = admin(cloud, "GET", "/v1/admin/config").body
    assert (current["version"], current["document"]) == (1, {"AI_USE_VLLM_BACKUP": False})
    # And a change that names no version is refused too (428), while * takes whatever is in force
    assert admin(cloud, "PUT", "/v1/admin/config", {"VLLM_TRAINED": True}).status == 428
    assert admin(cloud, "PUT", "/v1/admin/config", {"VLLM_TRAINED": True}, if_match="*").body["version"] == 2


def test_an_invalid_document_is_422_naming_each_field_and_nothing_is_applied(cloud: Gateway) -> None:
    # When the admin stores a document with a value the settings refuse, a name that cannot change at runtime and a
    # number out of its range
    document = {"AI_PRIMARY_PROVIDER": "openai", "PROVIDER_STATE_TABLE": "other", "RETRY_MAX_ATTEMPTS": 9}
    answer = admin(cloud, "PUT", "/v1/admin/config", document, if_match='"0"')
    # Then it is a 422 naming the fields at fault
    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_error"
    assert {problem["field"] for problem in answer.body["error"]["details"]} == {"PROVIDER_STATE_TABLE"}
    # (the values are checked once the names are)
    document.pop("PROVIDER_STATE_TABLE")
    answer = admin(cloud, "PUT", "/v1/admin/config", document, if_match='"0"')
    assert answer.status == 422
    assert {problem["field"] for problem in answer.body["error"]["details"]} == {
        "AI_PRIMARY_PROVIDER", "RETRY_MAX_ATTEMPTS"
    }  # fmt: skip
    # And nothing was stored or applied
    assert admin(cloud, "GET", "/v1/admin/config").body["version"] == 0
    assert admin(cloud, "GET", "/v1/admin/config/history").body["versions"] == []
    assert route(cloud, _prompt()).body["provider"] == "gemini"


def test_a_rollback_restores_an_earlier_version_as_a_new_one_and_the_history_says_who_changed_what(
    cloud: Gateway,
) -> None:
    # Given version 1 (Hugging Face first) and version 2 (Gemini first, no backup)
    admin(cloud, "PATCH", "/v1/admin/config", {"AI_PRIMARY_PROVIDER": "vllm"}, if_match='"0"')
    bob = "arn:aws:iam::1:user/bob"
    admin(cloud, "PUT", "/v1/admin/config", {"AI_USE_VLLM_BACKUP": False}, if_match='"1"', who=bob)
    assert route(cloud, _prompt()).body["provider"] == "gemini"
    # When the admin rolls back to version 1
    answer = admin(cloud, "POST", "/v1/admin/config/rollback", {"version": 1})
    # Then version 3 holds version 1's document, and the route answers by it again
    assert answer.status == 200
    assert (answer.body["version"], answer.body["document"]) == (3, {"AI_PRIMARY_PROVIDER": "vllm"})
    assert route(cloud, _prompt()).body["provider"] == "huggingface"
    # And the history lists every version, newest first, with who stored it and what it changed
    versions = admin(cloud, "GET", "/v1/admin/config/history").body["versions"]
    assert [(v["version"], v["action"], v["changed"], v["restored"]) for v in versions] == [
        (3, "rollback", ["AI_PRIMARY_PROVIDER", "AI_USE_VLLM_BACKUP"], 1),
        (2, "put", ["AI_PRIMARY_PROVIDER", "AI_USE_VLLM_BACKUP"], None),
        (1, "patch", ["AI_PRIMARY_PROVIDER"], None),
    ]
    assert versions[1]["updated_by"] == bob
    # And a version that does not exist cannot be restored
    assert admin(cloud, "POST", "/v1/admin/config/rollback", {"version": 9}).status == 404


def test_a_patch_with_null_gives_a_setting_back_to_the_environment(cloud: Gateway) -> None:
    admin(cloud, "PATCH", "/v1/admin/config", {"AI_PRIMARY_PROVIDER": "vllm", "VLLM_TRAINED": True}, if_match="*")
    answer = admin(cloud, "PATCH", "/v1/admin/config", {"AI_PRIMARY_PROVIDER": None}, if_match='"1"')
    assert answer.body["document"] == {"VLLM_TRAINED": True}
    assert answer.body["settings"]["AI_PRIMARY_PROVIDER"] == "gemini"
