"""The route function: `POST /v1/route`, and route jobs from the SQS queue."""

from __future__ import annotations

from fastapi import Depends

from gateway import route
from gateway.request_context import RequestContext
from gateway.route_jobs import handle_batch
from gateway.web import create_app, lambda_entry, request_context

app = create_app("route", "Answer a prompt: the small model first when it fits, then Gemini, then Hugging Face.")


@app.post("/v1/route", response_model=route.RouteResponse, response_model_exclude_none=True)
async def post_route(body: route.RouteRequest, ctx: RequestContext = Depends(request_context)) -> route.RouteResponse:
    return await route.answer(body, ctx)


handler = lambda_entry(app, on_event=handle_batch)
