"""What spans instances, with instances as Lambda runs them: separate interpreters running the real handlers, each
with its own caches, sharing one moto server (behind the AWS fault injector) and the provider emulator."""

from __future__ import annotations

import itertools
from typing import Any

from dev.instances import Instances, Plan
from gateway.providers.base import GenerationRequest
from gateway.resilience.spend import worst_case_cost
from tests.control.admin import admin, keyed
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


MAX_OUTPUT = 200
KEY_A, KEY_B = "keyAAAA001", "keyBBBB002"


def test_two_keys_at_once_one_capped_overshoots_by_at_most_one_reservation_and_the_other_is_untouched(
    faulty_gateway: FaultyGateway,
) -> None:
    assert faulty_gateway.stack is not None
    # Given Gemini alone in the chain, answers that bill all the output they may (each costs about its worst case),
    # and key A allowed 8 of them today; key B has no budget of its own
    faulty_gateway.emulator.fail("*", "overbill", tokens=MAX_OUTPUT)
    bodies = [[{**body, "max_output_tokens": MAX_OUTPUT} for body in _bodies(10)] for _ in range(4)]
    longest = max((body["prompt"] for plan in bodies for body in plan), key=len)
    system = "You are a helpful, precise assistant. Answer in English."
    worst = worst_case_cost("gemini-2.5-flash", GenerationRequest(longest, system, max_output_tokens=MAX_OUTPUT))
    cap = 8 * worst
    budget = admin(faulty_gateway, "PUT", f"/v1/admin/keys/{KEY_A}/budget", {"daily_usd": round(cap, 10)})
    assert budget.status == 200
    environment = {
        **faulty_gateway.stack.environment(), "SLM_MODE": "local", "AI_USE_VLLM_BACKUP": "false",
        "RETRY_MAX_ATTEMPTS": "1",
    }  # fmt: skip
    # When two instances send key A's requests and two others key B's, all at once (10 each)
    with Instances(environment, 4) as instances:
        plans = [
            Plan("route", "/v1/route", bodies[n], api_key_id=key) for n, key in enumerate([KEY_A] * 2 + [KEY_B] * 2)
        ]
        results = instances.run(plans)
        instances.release()
    of_a = [r for r in results if r.instance < 2]
    of_b = [r for r in results if r.instance >= 2]
    # Then what key A was billed stays within its budget plus one reservation, and the budget was spent, not refused
    # early (what is left is less than the slices its two instances may hold)
    spent = sum(r.cost_usd for r in of_a)
    assert spent <= cap + worst, f"{spent / worst:.2f} worst cases for a budget of 8"
    assert spent >= cap - 2 * worst, f"{spent / worst:.2f} of 8 worst cases spent"
    assert {r.status for r in of_a} == {200, 429}
    assert {r.code for r in of_a if r.status == 429} == {"key_budget_exhausted"}
    # And key B was answered every time: another key's budget never touches it
    assert [r.status for r in of_b] == [200] * 20
    # And GET /v1/usage shows each key its own day
    usage_a = keyed(faulty_gateway, "status", "GET", "/v1/usage", None, KEY_A).body
    usage_b = keyed(faulty_gateway, "status", "GET", "/v1/usage", None, KEY_B).body
    assert usage_a["requests"] == sum(r.status == 200 for r in of_a)
    assert usage_b["requests"] == 20
    assert abs(usage_a["spent_usd"] - spent) < 1e-9
