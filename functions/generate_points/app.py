"""The generate-points function: `POST /v1/generate-points`."""

from __future__ import annotations

from gateway.core.coldstart import loading

# The function's modules and its app live as long as the process: no GC passes over them (gateway.core.coldstart).
with loading("generate_points app"):
    from gateway.endpoints import points
    from gateway.http.app import Context, create_app
    from gateway.http.lambda_entry import lambda_entry

    app = create_app(
        "generate-points",
        "Natural language to exact coordinates: a shape spec (the local parser's or a model's), drawn.",
    )

    @app.post("/v1/generate-points", response_model=points.PointsResponse, response_model_exclude_none=True)
    async def post_generate_points(body: points.PointsRequest, ctx: Context) -> points.PointsResponse:
        return await points.generate(body, ctx)

    handler = lambda_entry(app)
