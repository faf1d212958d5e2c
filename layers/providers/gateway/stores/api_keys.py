"""The REST API's keys, as the WebSocket API's `$connect` checks them: enabled, and in a usage plan of the REST API.

API Gateway checks keys itself on the REST API. On the WebSocket API it could only read one from a header, and a
browser cannot set headers on a WebSocket, so the ws function checks the key (a header or a query parameter) against
the same keys, read from API Gateway's control plane. That plane is rate-limited per account, so an instance reads
the keys at most once per `max_age_s` (and, for a key it does not know, at most once per `MISS_RELOAD_S`: a key
created a moment ago works within seconds, and a flood of bad keys costs one read per instance per few seconds).
Keys are held by their SHA-256 digest, never their value.
"""

from __future__ import annotations

import hashlib
import threading
import time
from functools import lru_cache

from gateway.stores.aws import apigateway_client

MISS_RELOAD_S = 5.0


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ApiKeys:
    """The REST API's usable keys: `key_id(value)` is the key's id, or None when API Gateway would refuse it."""

    def __init__(self, rest_api_id: str, max_age_s: int) -> None:
        self._rest_api_id = rest_api_id
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._by_digest: dict[str, str] = {}  # SHA-256 of an enabled key's value -> its id
        self._loaded_at = float("-inf")
        self._planned: dict[str, tuple[bool, float]] = {}  # key id -> (in a plan of the API, when read)

    def key_id(self, value: str) -> str | None:
        """The id of the enabled key with this value that a usage plan of the REST API holds; None otherwise."""
        digest = _digest(value)
        with self._lock:
            age = time.monotonic() - self._loaded_at
            if age > self._max_age_s or (digest not in self._by_digest and age > MISS_RELOAD_S):
                self._load_keys()
            key_id = self._by_digest.get(digest)
            return key_id if key_id is not None and self._in_a_plan(key_id) else None

    def _load_keys(self) -> None:
        client = apigateway_client()
        by_digest = {}
        for page in client.get_paginator("get_api_keys").paginate(includeValues=True):
            for key in page.get("items", []):
                if key.get("enabled") and "value" in key and "id" in key:
                    by_digest[_digest(key["value"])] = key["id"]
        self._by_digest, self._loaded_at = by_digest, time.monotonic()

    def _in_a_plan(self, key_id: str) -> bool:
        known = self._planned.get(key_id)
        if known is not None and time.monotonic() - known[1] <= self._max_age_s:
            return known[0]
        client = apigateway_client()
        planned = any(
            stage.get("apiId") == self._rest_api_id
            for page in client.get_paginator("get_usage_plans").paginate(keyId=key_id)
            for plan in page.get("items", [])
            for stage in plan.get("apiStages", [])
        )
        self._planned[key_id] = (planned, time.monotonic())
        return planned


@lru_cache(maxsize=4)
def api_keys(rest_api_id: str, max_age_s: int) -> ApiKeys:
    """The process's view of a REST API's keys (one per instance, so its cache outlives an invocation)."""
    return ApiKeys(rest_api_id, max_age_s)
