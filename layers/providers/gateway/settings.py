"""Typed settings read from the environment, with the configuration names of the systems we replace."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from gateway.errors import ConfigurationError

DEFAULT_HF_BASE_URL = "https://router.huggingface.co"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class Settings(BaseModel):
    """Everything a function reads from its environment. Keys are not here: see `gateway.secrets`."""

    mode: Literal["aws", "local"] = Field("aws", alias="GATEWAY_MODE")
    secret_name: str | None = Field(None, alias="PROVIDER_SECRET_NAME")
    state_table: str | None = Field(None, alias="PROVIDER_STATE_TABLE")
    jobs_table: str | None = Field(None, alias="JOBS_TABLE")
    cache_table: str | None = Field(None, alias="CACHE_TABLE")
    gemini_model: str = Field("gemini-2.5-flash", alias="GEMINI_MODEL")
    gemini_base_url: str | None = Field(None, alias="GEMINI_BASE_URL")
    vllm_model: str = Field("meta-llama/Llama-3.1-8B-Instruct", alias="VLLM_MODEL")
    hf_point_generator_model: str = Field("Qwen/Qwen2.5-7B-Instruct", alias="HF_POINT_GENERATOR_MODEL")
    hf_base_url: str = Field(DEFAULT_HF_BASE_URL, alias="HF_BASE_URL")
    slm_mode: Literal["local", "http"] = Field("local", alias="SLM_MODE")
    slm_endpoint_url: str | None = Field(None, alias="SLM_ENDPOINT_URL")
    slm_model: str = Field("slm", alias="SLM_MODEL")
    slm_timeout_ms: int = Field(8000, gt=0, alias="SLM_TIMEOUT_MS")
    provider_timeout_ms: int = Field(20000, gt=0, alias="PROVIDER_TIMEOUT_MS")
    max_body_bytes: int = Field(65536, gt=0, alias="MAX_BODY_BYTES")
    max_points: int = Field(1000, gt=0, alias="MAX_POINTS")
    secret_max_age_s: int = Field(300, ge=0, alias="SECRET_MAX_AGE_SECONDS")
    job_retention_s: int = Field(7 * 24 * 3600, gt=0, alias="JOB_RETENTION_SECONDS")
    error_cache_ttl_s: int = Field(24 * 3600, ge=0, alias="ERROR_CACHE_TTL_SECONDS")  # 0: no cache
    # Resilience (issue 3): the gateway's one retry loop, the shared circuit breaker, the spend cap.
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
    daily_cost_limit: float | None = Field(None, ge=0, allow_inf_nan=False, alias="AI_DAILY_COST_LIMIT")
    gemini_daily_cost_limit: float | None = Field(None, ge=0, allow_inf_nan=False, alias="AI_DAILY_COST_LIMIT_GEMINI")
    huggingface_daily_cost_limit: float | None = Field(
        None, ge=0, allow_inf_nan=False, alias="AI_DAILY_COST_LIMIT_HUGGINGFACE"
    )
    # Route intelligence and the queues (issue 4). Only hashable values: Settings is an lru_cache key.
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
    gemini_embedding_model: str = Field("gemini-embedding-001", alias="GEMINI_EMBEDDING_MODEL")
    interactions_table: str | None = Field(None, alias="INTERACTIONS_TABLE")
    training_queue_url: str | None = Field(None, alias="TRAINING_QUEUE_URL")
    route_jobs_queue_url: str | None = Field(None, alias="ROUTE_JOBS_QUEUE_URL")
    idempotency_table: str | None = Field(None, alias="IDEMPOTENCY_TABLE")
    job_max_receives: int = Field(3, ge=1, alias="JOB_MAX_RECEIVES")
    dataset_bucket: str | None = Field(None, alias="DATASET_BUCKET")
    dataset_prefix: str = Field("training", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", alias="DATASET_PREFIX")
    hf_dataset_repo: str | None = Field(None, pattern=r"^[\w.-]+/[\w.-]+$", alias="HF_DATASET_REPO")
    # Security surface (issue 6): browser origins allowed to call the API, and per-endpoint prompt caps.
    cors_allow_origins: str = Field("", alias="CORS_ALLOW_ORIGINS")  # comma separated; "*" only in local mode
    max_prompt_chars_route: int = Field(32000, gt=0, alias="MAX_PROMPT_CHARS_ROUTE")
    max_prompt_chars_points: int = Field(4000, gt=0, alias="MAX_PROMPT_CHARS_POINTS")
    max_prompt_chars_error: int = Field(50000, gt=0, alias="MAX_PROMPT_CHARS_ERROR")

    model_config = {"populate_by_name": True, "frozen": True}

    @field_validator(
        "interactions_table",
        "training_queue_url",
        "route_jobs_queue_url",
        "idempotency_table",
        "dataset_bucket",
        "hf_dataset_repo",
        mode="before",
    )
    @classmethod
    def _empty_routing_name_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator(
        "gemini_base_url",
        "slm_endpoint_url",
        "secret_name",
        "state_table",
        "jobs_table",
        "cache_table",
        "daily_cost_limit",
        "gemini_daily_cost_limit",
        "huggingface_daily_cost_limit",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("hf_base_url", mode="before")
    @classmethod
    def _default_hf_base_url(cls, value: object) -> object:
        return DEFAULT_HF_BASE_URL if value in ("", None) else value

    @field_validator("gemini_base_url", "hf_base_url", "slm_endpoint_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
            raise ValueError("must be an absolute http(s) URL")
        return value

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

    @property
    def slm_enabled(self) -> bool:
        return self.slm_mode == "http" and self.slm_endpoint_url is not None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from an environment; a bad value is a ConfigurationError naming the variable."""
    env = dict(os.environ if environ is None else environ)
    names = {field.alias for field in Settings.model_fields.values() if field.alias}
    try:
        return Settings.model_validate({k: v for k, v in env.items() if k in names})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (a Lambda instance's environment does not change)."""
    return load_settings()
