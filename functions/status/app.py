"""The status function: `GET /v1/status`, `GET /health`, the scheduled probe, and the admin routes (IAM-authorised in
API Gateway, not by the public API key): the circuit reset and the runtime configuration."""

from __future__ import annotations

from gateway.core.coldstart import loading

# The function's modules and its app live as long as the process: no GC passes over them (gateway.core.coldstart).
with loading("status app"):
    from typing import Any

    from fastapi import Body, Header, Path, Query, Response

    from gateway.endpoints import admin_config, admin_keys, status, usage
    from gateway.http.app import AdminPrincipal, Context, create_app
    from gateway.http.lambda_entry import lambda_entry

    app = create_app(
        "status", "Every provider's configuration and last probe; a cheap liveness check; the admin routes."
    )
    _DOCUMENT = {
        "requestBody": {"required": True, "content": {"application/json": {"schema": admin_config.document_schema()}}}
    }
    _IF_MATCH = Header(None, description='the ETag of the version the change applies to (e.g. "3"), or *')
    _CHANGED: dict[int | str, dict[str, Any]] = {412: {"description": "stale"}, 428: {"description": "no If-Match"}}

    @app.get("/health")
    async def health() -> dict[str, str]:  # async: no hop to a worker thread for a constant
        return {"status": "ok"}

    @app.get("/v1/status", response_model=status.StatusResponse)
    def get_status() -> status.StatusResponse:
        return status.current_status()

    @app.post("/v1/admin/circuits/reset", response_model=status.Circuit)
    def reset_circuit(body: status.CircuitReset, who: AdminPrincipal) -> status.Circuit:
        """Close a provider's shared circuit. IAM-authorised in API Gateway, not by the public API key."""
        return status.reset_circuit_by_admin(body, who)

    def _versioned(config: admin_config.ConfigOut, response: Response) -> admin_config.ConfigOut:
        response.headers["ETag"] = admin_config.etag(config.version)
        return config

    @app.get("/v1/admin/config", response_model=admin_config.ConfigOut)
    def get_config(response: Response) -> admin_config.ConfigOut:
        """The runtime configuration in force, its version in `ETag`."""
        return _versioned(admin_config.current(), response)

    @app.put("/v1/admin/config", response_model=admin_config.ConfigOut, openapi_extra=_DOCUMENT, responses=_CHANGED)
    def put_config(
        response: Response, who: AdminPrincipal, document: dict[str, Any] = Body(), if_match: str | None = _IF_MATCH
    ) -> admin_config.ConfigOut:
        """Store a whole document as the next version (`If-Match`: the version it replaces)."""
        return _versioned(admin_config.put(document, if_match, who), response)

    @app.patch("/v1/admin/config", response_model=admin_config.ConfigOut, openapi_extra=_DOCUMENT, responses=_CHANGED)
    def patch_config(
        response: Response, who: AdminPrincipal, changes: dict[str, Any] = Body(), if_match: str | None = _IF_MATCH
    ) -> admin_config.ConfigOut:
        """Change some settings (a JSON merge patch: null gives one back to the environment) as the next version."""
        return _versioned(admin_config.patch(changes, if_match, who), response)

    @app.get("/v1/admin/config/history", response_model=admin_config.ConfigHistory)
    def get_config_history(
        limit: int = Query(admin_config.HISTORY_LIMIT, ge=1, le=admin_config.HISTORY_LIMIT),
    ) -> admin_config.ConfigHistory:
        """The newest versions: who stored each, when, and what it changed."""
        return admin_config.history(limit)

    @app.post(
        "/v1/admin/config/rollback",
        response_model=admin_config.ConfigOut,
        responses={404: {"description": "no such version"}, 412: {"description": "stale"}},
    )
    def rollback_config(
        body: admin_config.Rollback, response: Response, who: AdminPrincipal, if_match: str | None = _IF_MATCH
    ) -> admin_config.ConfigOut:
        """Restore an earlier version's document as the next version."""
        return _versioned(admin_config.rollback(body, if_match, who), response)

    @app.put("/v1/admin/providers/{provider}/key", response_model=admin_keys.ProviderKeyOut)
    def put_provider_key(
        provider: str, body: admin_keys.ProviderKeyIn, who: AdminPrincipal
    ) -> admin_keys.ProviderKeyOut:
        """Write a provider's key as a new version of the provider secret (never echoed or logged)."""
        return admin_keys.set_provider_key(provider, body, who)

    _KEY_ID = Path(pattern=admin_keys.API_KEY_ID_PATTERN, description="the API key's id (not its value)")

    @app.put("/v1/admin/keys/{api_key_id}/budget", response_model=admin_keys.KeyBudgetOut)
    def put_key_budget(
        body: admin_keys.KeyBudgetIn, who: AdminPrincipal, api_key_id: str = _KEY_ID
    ) -> admin_keys.KeyBudgetOut:
        """An API key's own daily limits, enforced with the gateway's caps."""
        return admin_keys.set_key_budget(api_key_id, body, who)

    @app.delete("/v1/admin/keys/{api_key_id}/budget", status_code=204)
    def delete_key_budget(who: AdminPrincipal, api_key_id: str = _KEY_ID) -> Response:
        """Remove an API key's own budget (the gateway's caps still apply)."""
        admin_keys.delete_key_budget(api_key_id, who)
        return Response(status_code=204)

    @app.get("/v1/usage", response_model=usage.UsageOut)
    def get_usage(ctx: Context) -> usage.UsageOut:
        """The calling API key's own day: spend, what is left of its budget, requests and tokens by model."""
        return usage.key_usage(ctx)

    handler = lambda_entry(app, on_event=status.on_schedule)
