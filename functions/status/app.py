"""The status function: `GET /v1/status`, `GET /health`, the scheduled probe, and the circuit reset."""

from __future__ import annotations

from gateway.core.coldstart import loading

# The function's modules and its app live as long as the process: no GC passes over them (gateway.core.coldstart).
with loading("status app"):
    from gateway.endpoints import status
    from gateway.http.app import create_app
    from gateway.http.lambda_entry import lambda_entry

    app = create_app("status", "Every provider's configuration and last probe; a cheap liveness check.")

    @app.get("/health")
    async def health() -> dict[str, str]:  # async: no hop to a worker thread for a constant
        return {"status": "ok"}

    @app.get("/v1/status", response_model=status.StatusResponse)
    def get_status() -> status.StatusResponse:
        return status.current_status()

    @app.post("/v1/admin/circuits/reset", response_model=status.Circuit)
    def reset_circuit(body: status.CircuitReset) -> status.Circuit:
        """Close a provider's shared circuit. IAM-authorised in API Gateway, not by the public API key."""
        return status.reset_circuit_by_admin(body)

    handler = lambda_entry(app, on_event=status.on_schedule)
