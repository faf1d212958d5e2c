"""What spans instances, with instances as Lambda runs them: separate interpreters running the real handlers, each
with its own caches, sharing one moto server (behind the AWS fault injector) and the provider emulator."""

from __future__ import annotations

import itertools
from typing import Any

from dev.instances import Instances, Plan
from tests.control.admin import admin
from tests.resilience.conftest import FaultyGateway

_prompts = itertools.count()


def _bodies(n: int) -> list[dict[str, Any]]:
    return [{"user_id": "u", "prompt": f"Say hello to visitor {next(_prompts)}", "language": "en"} for _ in range(n)]


def _provider(instances: Instances) -> str | None:
    (result,) = instances.run([Plan("route", "/v1/route", _bodies(1))])
    assert result.status == 200, result
    return result.provider


def test_a_config_change_reaches_another_instance_within_the_max_age_and_not_before(
    faulty_gateway: FaultyGateway,
) -> None:
    assert faulty_gateway.stack is not None
    environment = {**faulty_gateway.stack.environment(), "SLM_MODE": "local", "CONFIG_MAX_AGE_SECONDS": "300"}
    with Instances(environment, 1) as instances:
        # Given another instance that answered with Gemini, as its environment says (it read the configuration then)
        assert _provider(instances) == "gemini"
        # When an admin switches the primary provider through the status function (this process)
        changed = admin(faulty_gateway, "PATCH", "/v1/admin/config", {"AI_PRIMARY_PROVIDER": "vllm"}, if_match="*")
        assert changed.status == 200
        # Then the other instance keeps the version it read while that is younger than CONFIG_MAX_AGE_SECONDS (its
        # clock moved 240 s: the cache is 240 s old, and what real time passed, well under a minute)
        instances.advance_clock(0, 240)
        assert _provider(instances) == "gemini", instances.output(0)[-3000:]
        # And once it is older, the instance's next request applies the new version: Hugging Face answers
        instances.advance_clock(0, 61)
        assert _provider(instances) == "huggingface"
