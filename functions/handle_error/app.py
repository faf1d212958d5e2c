"""The handle-error function: `POST /v1/handle-error`."""

from __future__ import annotations

from gateway.core.coldstart import loading

# The function's modules and its app live as long as the process: no GC passes over them (gateway.core.coldstart).
with loading("handle_error app"):
    from gateway.endpoints import error_analysis
    from gateway.http.app import Context, create_app
    from gateway.http.lambda_entry import lambda_entry

    app = create_app("handle-error", "An application error in, a structured explanation and fix out.")

    @app.post("/v1/handle-error", response_model=error_analysis.ErrorAnalysisResponse, response_model_exclude_none=True)
    async def post_handle_error(
        body: error_analysis.ErrorRequest, ctx: Context
    ) -> error_analysis.ErrorAnalysisResponse:
        return await error_analysis.analyse(body, ctx)

    handler = lambda_entry(app)
