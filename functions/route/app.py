"""The route function: `POST /v1/route`, `POST /v1/jobs`, `GET /v1/jobs/{job_id}`, and route jobs from SQS."""

from __future__ import annotations

from gateway.coldstart import loading

# The function's modules and its app live as long as the process: no GC passes over them (gateway.coldstart).
with loading("route app"):
    from fastapi import Depends, Header, Path, Response

    from gateway import route, route_jobs
    from gateway.request_context import RequestContext
    from gateway.settings import get_settings
    from gateway.web import create_app, lambda_entry, request_context

    app = create_app("route", "Answer a prompt: the small model first when it fits, then Gemini, then Hugging Face.")

    @app.post("/v1/route", response_model=route.RouteResponse, response_model_exclude_none=True)
    async def post_route(
        body: route.RouteRequest,
        ctx: RequestContext = Depends(request_context),
        cache_control: str | None = Header(None, description="`no-cache` skips the response cache"),
    ) -> route.RouteResponse:
        return await route.answer(body, ctx, cache=route.cache_mode(cache_control))

    @app.post("/v1/jobs", status_code=202, response_model=route_jobs.JobAccepted)
    async def post_job(
        body: route.RouteRequest, response: Response, ctx: RequestContext = Depends(request_context)
    ) -> route_jobs.JobAccepted:
        accepted = route_jobs.enqueue(body, ctx)
        response.headers["Location"] = accepted.status_url
        return accepted

    @app.get("/v1/jobs/{job_id}", response_model=route_jobs.JobOut, response_model_exclude_none=True)
    async def get_job(job_id: str = Path(pattern=route_jobs.JOB_ID_PATTERN)) -> route_jobs.JobOut:
        return route_jobs.get_job(job_id, get_settings())

    handler = lambda_entry(app, on_event=route_jobs.handle_batch)
