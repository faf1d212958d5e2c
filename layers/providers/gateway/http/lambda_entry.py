"""The Lambda entry of every function: Powertools' logger and metrics around Mangum for API Gateway events, and
a function's own handler for its other events (a queue, a stream, a schedule).

An event that is not a JSON object is refused with a one-line ValueError; one that looks like API Gateway's but
cannot be served is answered 400 in the error shape (`gateway.http.events`). FastAPI and Mangum are not imported
here at load: a function that serves no HTTP (`event_entry`) never pays for them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.core import caller
from gateway.core.runtime import event_loop
from gateway.http.events import api_event_problem, bad_event_response, describe, looks_like_api, require_object
from gateway.http.snapstart import register as register_snapstart_hooks
from gateway.observability import logger, metrics

if TYPE_CHECKING:
    from fastapi import FastAPI

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def lambda_entry(app: FastAPI, on_event: LambdaHandler | None = None) -> LambdaHandler:
    """The Lambda handler: Powertools decorators around Mangum, plus non-HTTP events via `on_event`."""
    from mangum import Mangum

    register_snapstart_hooks()
    event_loop()  # this thread's loop, before Mangum looks for one (else it makes its own)
    asgi = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        event_loop()
        caller.begin(None)  # no request inherits the caller of the one before it
        if not looks_like_api(event):
            if on_event is None:
                raise ValueError(f"this function only answers API Gateway events, not {describe(event)}")
            return on_event(event, context)
        problem = api_event_problem(event)
        if problem is not None:
            logger.warning("invalid API Gateway event", extra={"problem": problem})
            return bad_event_response(event, problem)
        return dict(asgi(event, cast(Any, context)))  # two LambdaContext protocols, one object

    return _objects_only(handler)


def adapter_entry(app: FastAPI) -> Callable[..., Any]:
    """The app as uvicorn serves it behind the AWS Lambda Web Adapter (a function whose answers are streamed): each
    request's metrics are flushed as it ends, as `log_metrics` does for a Lambda handler."""

    async def asgi(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        try:
            await app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                metrics.flush_metrics()

    return asgi


def event_entry(on_event: LambdaHandler) -> LambdaHandler:
    """The Lambda handler of a function that serves no HTTP: Powertools decorators around `on_event`."""
    register_snapstart_hooks()

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        caller.begin(None)
        return on_event(event, context)

    return _objects_only(handler)


def _objects_only(handler: Callable[..., dict[str, Any]]) -> LambdaHandler:
    """Refuse an event that is not a JSON object before Powertools reads it (its decorators call `.get` on it)."""

    def entry(event: Any, context: LambdaContext) -> dict[str, Any]:
        return handler(require_object(event), context)

    return entry
