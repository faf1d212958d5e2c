"""The route function: `POST /v1/route`, `POST /v1/jobs`, `GET /v1/jobs/{job_id}`, `POST /v1/feedback` (a rating of
an answer), and route jobs from SQS."""

from __future__ import annotations

from gateway.core.coldstart import loading

# The function's modules and its app live as long as the process: no GC passes over them (gateway.core.coldstart).
with loading("route app"):
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext
    from fastapi import Header, Path, Response

    from gateway.endpoints import feedback, route, route_jobs
    from gateway.http.app import Context, create_app
    from gateway.http.events import batch_of
    from gateway.http.lambda_entry import lambda_entry

    app = create_app("route", "Answer a prompt: the small model first when it fits, then Gemini, then Hugging Face.")

    @app.post("/v1/route", response_model=route.RouteResponse, response_model_exclude_none=True)
    async def post_route(
        body: route.RouteRequest,
        ctx: Context,
        cache_control: str | None = Header(None, description="`no-cache` skips the response cache"),
    ) -> route.RouteResponse:
        return await route.answer(body, ctx, cache_control=cache_control)

    @app.post("/v1/jobs", status_code=202, response_model=route_jobs.JobAccepted)
    async def post_job(body: route.RouteRequest, response: Response, ctx: Context) -> route_jobs.JobAccepted:
        accepted = route_jobs.enqueue(body, ctx)
        response.headers["Location"] = accepted.status_url
        return accepted

    @app.get("/v1/jobs/{job_id}", response_model=route_jobs.JobOut, response_model_exclude_none=True)
    async def get_job(job_id: str = Path(pattern=route_jobs.JOB_ID_PATTERN)) -> route_jobs.JobOut:
        return route_jobs.get_job(job_id)

    _RATED: dict[int | str, dict[str, Any]] = {404: {"description": "no such answer"}, 503: {"description": "retry"}}

    @app.post("/v1/feedback", response_model=feedback.FeedbackOut, responses=_RATED)
    def post_feedback(body: feedback.FeedbackIn, ctx: Context) -> feedback.FeedbackOut:
        """Rate an answer (-1 or 1) as the API key that asked for it; a second rating replaces the first."""
        return feedback.rate(body, ctx)

    def on_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """A batch of route jobs from SQS (imported here: the HTTP path never needs batch processing)."""
        from gateway.endpoints.route_job_queue import handle_batch

        batch_of(event, "aws:sqs")  # anything else is a ValueError naming what it is

        return handle_batch(event, context)

    handler = lambda_entry(app, on_event=on_event)
