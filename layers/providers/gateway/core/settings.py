"""The gateway's settings from the environment (pydantic-settings), with the names of the systems it replaces.

`GatewaySettings` holds what is not a provider's: tables and queues, limits, retries and breakers, caps,
routing and learning. Each provider declares its own fields in its module (`gateway.providers.<name>`), and
`gateway.config.settings.Settings` is all of them together. Keys are not settings: see `gateway.config.keys`.

An empty variable is unset (`env_ignore_empty`: a template parameter left blank means "the default"), names
are exact (`case_sensitive`: Lambda's environment is), and settings never change once read (`frozen`: they are
hashable, and cache keys).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
SETTINGS_CONFIG = SettingsConfigDict(
    env_ignore_empty=True, frozen=True, case_sensitive=True, populate_by_name=True, extra="ignore"
)


def _absolute_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


HttpUrlText = Annotated[str, AfterValidator(_absolute_url)]
"""An absolute http(s) URL, kept as the text it was given."""


class GatewaySettings(BaseSettings):
    """Everything a function reads from its environment that is not one provider's."""

    model_config = SETTINGS_CONFIG

    mode: Literal["aws", "local"] = Field("aws", alias="GATEWAY_MODE")
    secret_name: str | None = Field(None, alias="PROVIDER_SECRET_NAME")
    state_table: str | None = Field(None, alias="PROVIDER_STATE_TABLE")
    jobs_table: str | None = Field(None, alias="JOBS_TABLE")
    cache_table: str | None = Field(None, alias="CACHE_TABLE")
    provider_timeout_ms: int = Field(20000, gt=0, alias="PROVIDER_TIMEOUT_MS")
    # The OpenAI-compatible function's answers are streamed by API Gateway (up to 15 minutes), not held to 29 s.
    chat_deadline_s: int = Field(300, ge=1, le=900, alias="CHAT_DEADLINE_SECONDS")
    # A keep-alive comment this often while a streamed answer's provider is silent (API Gateway's idle limit: 5 min).
    sse_keepalive_ms: int = Field(15000, ge=100, le=240000, alias="SSE_KEEPALIVE_MS")
    max_body_bytes: int = Field(65536, gt=0, alias="MAX_BODY_BYTES")
    max_points: int = Field(1000, gt=0, alias="MAX_POINTS")
    secret_max_age_s: int = Field(300, ge=0, alias="SECRET_MAX_AGE_SECONDS")
    config_max_age_s: int = Field(30, ge=0, le=3600, alias="CONFIG_MAX_AGE_SECONDS")  # runtime config, key budgets
    job_retention_s: int = Field(7 * 24 * 3600, gt=0, alias="JOB_RETENTION_SECONDS")
    error_cache_ttl_s: int = Field(24 * 3600, ge=0, alias="ERROR_CACHE_TTL_SECONDS")  # 0: no cache
    # Resilience: the gateway's one retry loop, the shared circuit breaker, the spend cap (per provider: its module).
    retry_max_attempts: int = Field(2, ge=1, le=5, alias="RETRY_MAX_ATTEMPTS")
    retry_base_delay_ms: int = Field(100, ge=0, alias="RETRY_BASE_DELAY_MS")
    retry_max_delay_ms: int = Field(2000, ge=0, alias="RETRY_MAX_DELAY_MS")
    min_attempt_ms: int = Field(250, ge=1, alias="MIN_ATTEMPT_MS")
    breaker_failure_threshold: int = Field(5, ge=1, alias="BREAKER_FAILURE_THRESHOLD")
    breaker_failure_rate: float = Field(0.5, gt=0, le=1, alias="BREAKER_FAILURE_RATE")
    breaker_min_requests: int = Field(10, ge=1, alias="BREAKER_MIN_REQUESTS")
    breaker_window_s: int = Field(60, ge=1, alias="BREAKER_WINDOW_SECONDS")
    breaker_cooldown_s: int = Field(30, ge=1, alias="BREAKER_COOLDOWN_SECONDS")
    breaker_cache_ms: int = Field(1000, ge=0, le=1000, alias="BREAKER_CACHE_MS")
    breaker_flush_ms: int = Field(500, ge=0, le=1000, alias="BREAKER_FLUSH_MS")  # an instance's writes per breaker
    daily_cost_limit: float | None = Field(None, ge=0, allow_inf_nan=False, alias="AI_DAILY_COST_LIMIT")
    # Budget leases: how long an instance keeps a slice of a cap, how many worst cases it holds, which share of the
    # room left it takes at most (docs/resilience.md: the price of leases).
    spend_lease_s: int = Field(60, ge=0, le=3600, alias="SPEND_LEASE_SECONDS")
    spend_lease_calls: int = Field(20, ge=1, le=1000, alias="SPEND_LEASE_CALLS")
    spend_lease_split: int = Field(16, ge=1, le=10000, alias="SPEND_LEASE_SPLIT")
    # Routing and the queues. Only hashable values: Settings is an lru_cache key.
    ai_primary_provider: Literal["gemini", "vllm"] = Field("gemini", alias="AI_PRIMARY_PROVIDER")
    ai_use_vllm_backup: bool = Field(True, alias="AI_USE_VLLM_BACKUP")
    vllm_trained: bool = Field(False, alias="VLLM_TRAINED")
    route_topics: str = Field("", alias="ROUTE_TOPICS")
    complexity_threshold: float = Field(0.5, ge=0, le=1, allow_inf_nan=False, alias="COMPLEXITY_THRESHOLD")
    cache_ttl_s: int = Field(3600, ge=0, alias="CACHE_TTL_SECONDS")
    similarity_threshold: float = Field(0.9, gt=0, le=1, allow_inf_nan=False, alias="SIMILARITY_THRESHOLD")
    repetition_window: int = Field(50, ge=1, le=500, alias="REPETITION_WINDOW")
    interaction_retention_s: int = Field(30 * 24 * 3600, gt=0, alias="INTERACTION_RETENTION_SECONDS")
    embedding_provider: Literal["local", "gemini"] = Field("local", alias="EMBEDDING_PROVIDER")
    interactions_table: str | None = Field(None, alias="INTERACTIONS_TABLE")
    training_queue_url: str | None = Field(None, alias="TRAINING_QUEUE_URL")
    route_jobs_queue_url: str | None = Field(None, alias="ROUTE_JOBS_QUEUE_URL")
    idempotency_table: str | None = Field(None, alias="IDEMPOTENCY_TABLE")
    job_max_receives: int = Field(3, ge=1, alias="JOB_MAX_RECEIVES")
    dataset_bucket: str | None = Field(None, alias="DATASET_BUCKET")
    dataset_prefix: str = Field("training", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", alias="DATASET_PREFIX")
    hf_dataset_repo: str | None = Field(None, pattern=r"^[\w.-]+/[\w.-]+$", alias="HF_DATASET_REPO")
    # The WebSocket API (the ws function): its connections table, the REST API whose keys it accepts on $connect,
    # and the management API it pushes frames through (default: https://{domainName}/{stage} of the event).
    connections_table: str | None = Field(None, alias="CONNECTIONS_TABLE")
    connection_ttl_s: int = Field(3 * 3600, gt=0, alias="WS_CONNECTION_TTL_SECONDS")
    rest_api_id: str | None = Field(None, alias="REST_API_ID")
    api_keys_max_age_s: int = Field(60, ge=0, alias="API_KEYS_MAX_AGE_SECONDS")
    ws_management_url: HttpUrlText | None = Field(None, alias="WS_MANAGEMENT_URL")
    # Security surface: browser origins allowed to call the API, and per-endpoint prompt caps.
    cors_allow_origins: str = Field("", alias="CORS_ALLOW_ORIGINS")  # comma separated; "*" only in local mode
    max_prompt_chars_route: int = Field(32000, gt=0, alias="MAX_PROMPT_CHARS_ROUTE")
    max_prompt_chars_points: int = Field(4000, gt=0, alias="MAX_PROMPT_CHARS_POINTS")
    max_prompt_chars_error: int = Field(50000, gt=0, alias="MAX_PROMPT_CHARS_ERROR")

    @field_validator("cors_allow_origins")
    @classmethod
    def _origin_allow_list(cls, value: str, info: ValidationInfo) -> str:
        origins = [o.strip() for o in value.split(",") if o.strip()]
        for origin in origins:
            if origin == "*":
                if info.data.get("mode") != "local":
                    raise ValueError('"*" allows every origin and is only accepted with GATEWAY_MODE=local')
            elif not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
        return ",".join(origins)

    @property
    def cors_origins(self) -> tuple[str, ...]:
        """The browser origins allowed to call the API ("*" for any, local mode only); empty: none."""
        return tuple(self.cors_allow_origins.split(",")) if self.cors_allow_origins else ()
