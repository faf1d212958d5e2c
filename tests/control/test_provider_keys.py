"""Provider keys changed through `PUT /v1/admin/providers/{provider}/key`: a new version of the provider secret,
used by every instance once its cached secret is older than `SECRET_MAX_AGE_SECONDS`, and never shown anywhere."""

from __future__ import annotations

import hashlib
import itertools
import json
import time

from dev.instances import Instances, Plan
from tests.conftest import EMULATOR_KEY, Gateway
from tests.control.admin import ADMIN_ARN, admin, route
from tests.observability.capture import Capture
from tests.resilience.conftest import FaultyGateway

NEW_KEY = "AIza-rotated-0123456789abcdefXYZ"
_prompts = itertools.count()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _gemini_key_used(gateway: Gateway) -> str | None:
    calls = [call for call in gateway.emulator.calls_for("gemini") if "generateContent" in call.path]
    return calls[-1].key_sha256 if calls else None


def _ask(instances: Instances) -> None:
    body = {"user_id": "u", "prompt": f"Say hello to visitor {next(_prompts)}", "language": "en"}
    (result,) = instances.run([Plan("route", "/v1/route", [body])])
    assert (result.status, result.provider) == (200, "gemini"), result


def test_a_key_written_through_the_admin_route_is_used_after_the_cache_age_and_never_shown(
    faulty_gateway: FaultyGateway, captured: Capture
) -> None:
    assert faulty_gateway.stack is not None
    environment = {**faulty_gateway.stack.environment(), "SLM_MODE": "local", "SECRET_MAX_AGE_SECONDS": "2"}
    with Instances(environment, 1) as instances:
        # Given another instance calling Gemini with the key it read from the secret
        _ask(instances)
        assert _gemini_key_used(faulty_gateway) == _digest(EMULATOR_KEY)
        # When an admin writes a new Gemini key
        answer = admin(faulty_gateway, "PUT", "/v1/admin/providers/gemini/key", {"key": NEW_KEY})
        assert answer.status == 200, answer.body
        assert answer.body == {
            "provider": "gemini", "key_set": True, "changed_at": answer.body["changed_at"], "changed_by": ADMIN_ARN
        }  # fmt: skip
        # Then the other instance's next call once its cached secret is older than SECRET_MAX_AGE_SECONDS uses it
        time.sleep(2.1)
        _ask(instances)
        assert _gemini_key_used(faulty_gateway) == _digest(NEW_KEY)
        # And status says the key is set and when it changed
        status = admin(faulty_gateway, "GET", "/v1/status")
        keys = {entry["provider"]: entry for entry in status.body["keys"]}
        assert keys["gemini"] == {"provider": "gemini", "set": True, "changed_at": answer.body["changed_at"]}
        assert keys["huggingface"]["changed_at"] is None
        # And the key is in no response, no log line and no metric, of this process or the other instance
        written = captured.read().text + instances.output(0)
        assert "provider key changed" in written
        for text in (json.dumps(answer.raw), json.dumps(status.raw), written):
            assert NEW_KEY not in text
        # (nor in what the provider was sent, but the header itself)
        assert NEW_KEY not in json.dumps([call.to_dict() for call in faulty_gateway.emulator.calls])


def test_a_key_for_no_provider_is_404_and_a_malformed_one_is_422_without_echoing_it(gateway: Gateway) -> None:
    # When the admin names a provider that does not exist, or sends a key that cannot go into a header
    unknown = admin(gateway, "PUT", "/v1/admin/providers/openai/key", {"key": NEW_KEY})
    malformed = admin(gateway, "PUT", "/v1/admin/providers/gemini/key", {"key": "two words\n" + NEW_KEY})
    # Then nothing is written, and the answer names the problem, never the key
    assert unknown.status == 404
    assert malformed.status == 422
    assert malformed.body["error"]["details"][0]["field"] == "key"
    assert NEW_KEY not in json.dumps(malformed.raw)
    route_answer = route(gateway, "Say hello")
    assert route_answer.status == 200
    assert _gemini_key_used(gateway) in (None, _digest(EMULATOR_KEY))
