"""The status function: `GET /v1/status`, `GET /health`, the scheduled probe, and the circuit reset."""

from __future__ import annotations

from gateway.coldstart import loading

# The function's modules and its app live as long as the process: no GC passes over them (gateway.coldstart).
with loading("status app"):
    from typing import Any

    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from pydantic import BaseModel, ConfigDict, Field

    from gateway import status
    from gateway.observability import logger, metrics, publish_spend
    from gateway.settings import get_settings
    from gateway.stores.secrets import load_provider_keys
    from gateway.web import create_app, event_loop, lambda_entry

    app = create_app("status", "Every provider's configuration and last probe; a cheap liveness check.")

    @app.get("/health")
    async def health() -> dict[str, str]:  # async: no hop to a worker thread for a constant
        return {"status": "ok"}

    @app.get("/v1/status", response_model=status.StatusResponse)
    def get_status() -> status.StatusResponse:
        settings = get_settings()
        return status.provider_status(settings, load_provider_keys(settings))

    class CircuitReset(BaseModel):
        model_config = ConfigDict(extra="forbid")

        provider: str = Field(min_length=1, max_length=32)
        model: str | None = Field(None, min_length=1, max_length=200, description="Defaults to the configured model")

    @app.post("/v1/admin/circuits/reset", response_model=status.Circuit)
    def reset_circuit(body: CircuitReset) -> status.Circuit:
        """Close a provider's shared circuit. IAM-authorised in API Gateway, not by the public API key."""
        settings = get_settings()
        circuit = status.reset_circuit(settings, load_provider_keys(settings), body.provider, body.model)
        logger.info("circuit reset by an admin", extra={"provider": body.provider, "model": body.model})
        return circuit

    def on_schedule(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """An EventBridge schedule: probe every configured provider and record the outcomes."""
        if event.get("detail-type") != "Scheduled Event":
            raise ValueError(f"unexpected event: {event.get('detail-type') or sorted(event)[:5]}")
        settings = get_settings()
        records = event_loop().run_until_complete(status.probe_all(settings, load_provider_keys(settings)))
        metrics.add_metric(name="ProvidersProbed", unit=MetricUnit.Count, value=len(records))
        metrics.add_metric(name="ProbeFailures", unit=MetricUnit.Count, value=sum(r.outcome != "ok" for r in records))
        publish_spend(settings)  # today's spend against the caps, for the spend alarm (no read per request)
        logger.info("providers probed", extra={"probes": [r.model_dump() for r in records]})
        return {"probed": [r.model_dump(exclude_none=True) for r in records]}

    handler = lambda_entry(app, on_event=on_schedule)
