"""The runtime configuration every instance applies without a redeploy: which settings may change, and the version in
force as this instance knows it (read at most once per `CONFIG_MAX_AGE_SECONDS`).

Chosen over AWS AppConfig: Powertools reads AppConfig through the `appconfigdata` API (a configuration session, then
the latest configuration), and moto implements neither it nor AppConfig's environments, deployment strategies and
deployments (only applications, profiles and hosted versions), so an AppConfig design could not run on a laptop or in
the tests against moto. The record is versioned in DynamoDB instead (`gateway.stores.runtime_config`), validated when
written by the same pydantic model as the environment (`gateway.config.settings`).

The cache is written here rather than taken from Powertools' parameters (its `DynamoDBProvider` with `max_age`):
its cache decides by `datetime.now()`, and the gateway's shared state decides by `gateway.core.clock`, which the
multi-instance tests move for an instance in another process ("within the max age and not before" holds without
waiting); and an instance must keep the version it has when a read fails, and remember that none was stored, which
Powertools' cache does neither of (it raises, and caches no miss).
"""

from __future__ import annotations

import threading

from aws_lambda_powertools.metrics import MetricUnit

from gateway.core import clock
from gateway.observability import logger, metrics
from gateway.stores.runtime_config import ConfigVersion, RuntimeConfigStore

# The settings an admin may change at runtime (`PUT`/`PATCH /v1/admin/config`), by their environment names: routing,
# the models, the sLM, the caps, retries and breakers. Tables, queues, base URLs and limits stay the deployment's.
RUNTIME_NAMES = (
    "AI_PRIMARY_PROVIDER", "AI_USE_VLLM_BACKUP", "VLLM_TRAINED",
    "GEMINI_MODEL", "VLLM_MODEL", "HF_POINT_GENERATOR_MODEL", "SLM_MODEL",
    "SLM_MODE", "SLM_ENDPOINT_URL", "SLM_TIMEOUT_MS", "PROVIDER_TIMEOUT_MS",
    "AI_DAILY_COST_LIMIT", "AI_DAILY_COST_LIMIT_GEMINI", "AI_DAILY_COST_LIMIT_HUGGINGFACE",
    "RETRY_MAX_ATTEMPTS", "RETRY_BASE_DELAY_MS", "RETRY_MAX_DELAY_MS", "MIN_ATTEMPT_MS",
    "BREAKER_FAILURE_THRESHOLD", "BREAKER_FAILURE_RATE", "BREAKER_MIN_REQUESTS", "BREAKER_WINDOW_SECONDS",
    "BREAKER_COOLDOWN_SECONDS", "BREAKER_CACHE_MS", "BREAKER_FLUSH_MS",
)  # fmt: skip
RETRY_AFTER_FAILURE_S = 5.0  # an unreadable record is tried again this soon (or at the max age, if sooner)


class _InForce:
    """What this instance knows of the version in force, per state table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[float, ConfigVersion]] = {}  # table -> (when to read again, version)

    def version(self, table: str, max_age_s: int) -> ConfigVersion:
        """The version in force as last read (version 0: none stored), read again once `max_age_s` old."""
        now = clock.monotonic()
        known = self._known.get(table)
        if known is not None and now < known[0]:
            return known[1]
        with self._lock:
            known = self._known.get(table)
            if known is not None and now < known[0]:
                return known[1]
            try:
                version = RuntimeConfigStore(table).head()
                self._known[table] = (now + max_age_s, version)
            except Exception as exc:  # keep what is known (the environment, at first) and try again soon
                logger.error("runtime configuration unreadable", extra={"error": f"{type(exc).__name__}: {exc}"})
                metrics.add_metric(name="RuntimeConfigUnreadable", unit=MetricUnit.Count, value=1)
                version = known[1] if known is not None else ConfigVersion(0)
                self._known[table] = (now + min(float(max_age_s), RETRY_AFTER_FAILURE_S), version)
            return version

    def learn(self, table: str, version: ConfigVersion, max_age_s: int) -> None:
        """A version this instance has just stored: in force here at once."""
        with self._lock:
            self._known[table] = (clock.monotonic() + max_age_s, version)

    def forget(self) -> None:
        with self._lock:
            self._known.clear()


in_force = _InForce()
"""The process's view of the runtime configuration (one per instance, so its cache outlives an invocation)."""
