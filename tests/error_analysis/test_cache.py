"""The cache of analyses: it saves money, so it may be turned off and must never fail a request."""

from __future__ import annotations

from typing import Any, cast

from botocore.exceptions import ClientError

from gateway.config.settings import Settings
from gateway.endpoints.error_analysis import Analysis, analysis_cache, cached_analysis, store_analysis
from gateway.stores.cache import CacheStore

ANALYSIS = Analysis(summary="s", likely_cause="c", fix_steps=["a"], confidence=0.5)


class BrokenStore:
    """A cache table that cannot be reached."""

    def get(self, key: str) -> dict[str, Any] | None:
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}, "GetItem")

    def put(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}, "PutItem")


class StaleStore:
    """A cache holding an answer in a shape this version does not read."""

    def get(self, key: str) -> dict[str, Any] | None:
        return {"analysis": {"summary": "only a summary"}, "provider": "gemini", "model": "m"}


def test_a_ttl_of_zero_or_no_table_turns_the_cache_off() -> None:
    assert analysis_cache(Settings(CACHE_TABLE="cache", ERROR_CACHE_TTL_SECONDS=0)) is None
    assert analysis_cache(Settings(ERROR_CACHE_TTL_SECONDS=3600)) is None


def test_an_unreachable_cache_is_a_miss_and_storing_into_it_is_skipped() -> None:
    store = cast(CacheStore, BrokenStore())
    assert cached_analysis(store, "key") is None
    store_analysis(store, "key", ANALYSIS, "gemini", "gemini-2.5-flash", 60)  # does not raise


def test_an_answer_cached_in_an_older_shape_is_a_miss() -> None:
    assert cached_analysis(cast(CacheStore, StaleStore()), "key") is None
