"""API keys on the local stack, as API Gateway treats them: `make run` makes two keys (from `LOCAL_API_KEYS`), looks
`x-api-key` or a bearer token up among them, passes the key's id to the functions, refuses an unknown key (403) and,
with `LOCAL_REQUIRE_API_KEY=true`, a request without one; the admin routes answer loopback callers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from dev.stack_process import LocalStackProcess

pytestmark = pytest.mark.e2e
FIRST, SECOND = "alpha-local-key-000001", "beta-local-key-0000002"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStackProcess]:
    env = {"LOCAL_API_KEYS": f"{FIRST},{SECOND}", "LOCAL_REQUIRE_API_KEY": "true"}
    with LocalStackProcess(env=env) as running:
        yield running


def _key_ids(stack: LocalStackProcess) -> tuple[str, str]:
    found = re.search(rf"{FIRST} \(id (\w+)\), {SECOND} \(id (\w+)\)", stack.output())
    assert found, stack.output()[-3000:]
    return found.group(1), found.group(2)


def test_the_banner_prints_both_keys_and_says_the_admin_routes_are_open_on_loopback(
    stack: LocalStackProcess,
) -> None:
    banner = stack.output()
    first_id, second_id = _key_ids(stack)
    assert first_id != second_id
    assert "a request without one is refused (LOCAL_REQUIRE_API_KEY=true)" in banner
    assert "admin routes (/v1/admin/...) are open to loopback callers here" in banner


def test_keys_are_checked_and_each_request_is_counted_for_its_own_key(stack: LocalStackProcess) -> None:
    first_id, second_id = _key_ids(stack)
    body = {"user_id": "e2e", "prompt": "Say hello"}
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        # A request without a key, or with one the stack does not have, is refused before any function runs
        missing = client.post("/v1/route", json=body)
        unknown = client.post("/v1/route", json=body, headers={"x-api-key": "not-a-key"})
        alias = client.post("/v1/route", json=body, headers={"Authorization": "Bearer local"})  # only when not required
        assert (missing.status_code, unknown.status_code, alias.status_code) == (403, 403, 403)
        assert unknown.json()["error"]["code"] == "INVALID_API_KEY"
        # A known key, in x-api-key or as a bearer token, is served, and the functions know which key it was
        assert client.post("/v1/route", json=body, headers={"x-api-key": FIRST}).status_code == 200
        usage_first = client.get("/v1/usage", headers={"x-api-key": FIRST}).json()
        usage_second = client.get("/v1/usage", headers={"Authorization": f"Bearer {SECOND}"}).json()
        assert (usage_first["api_key_id"], usage_first["requests"]) == (first_id, 1)
        assert (usage_second["api_key_id"], usage_second["requests"]) == (second_id, 0)
        # And an admin on loopback, unsigned, gives the second key no requests today: it is refused, the first is not
        budget = client.put(f"/v1/admin/keys/{second_id}/budget", json={"daily_requests": 0})
        assert budget.status_code == 200, budget.text
        fresh = {**body, "prompt": "Say hello once more"}  # not an answer the cache holds (those cost nothing)
        refused = client.post("/v1/route", json=fresh, headers={"Authorization": f"Bearer {SECOND}"})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "key_budget_exhausted"
        assert int(refused.headers["Retry-After"]) > 0
        assert client.post("/v1/route", json=body, headers={"x-api-key": FIRST}).status_code == 200
