"""The one module that wires observability for every function: logs, metrics and traces.

- **Logs**: Powertools `Logger`, JSON lines with the request's correlation id (a client's valid
  `X-Request-Id`, else API Gateway's request id; see `gateway.web`).
- **Metrics**: Powertools `Metrics` in CloudWatch's embedded metric format (EMF: a JSON line on
  stdout, no API call), namespace `POWERTOOLS_METRICS_NAMESPACE`, dimension `service`:
  `Requests`, `ClientErrors`, `ServerErrors` (per HTTP request), `Fallbacks`, `Breaker<Change>`,
  `ProvidersProbed`, `ProbeFailures`, `DailySpendUsd`, `SpendCapUtilisation` (the scheduled probe).
  Each provider attempt writes its own EMF record (`observe_attempt`), so that its `provider`
  dimension applies to its metrics only: `ProviderAttempts`, `ProviderAnswers`, `ProviderFailures`,
  `ProviderSkips`, `ProviderLatency` (ms), `InputTokens`, `OutputTokens`, `CostUsd`, under the
  dimension sets [provider, service] and [service] (the total over providers).
- **Traces**: one X-Ray subsegment per provider attempt, under the function's segment. They are
  sent as the X-Ray SDK sends them (one UDP datagram to the Lambda's X-Ray daemon, no API call),
  without the SDK: `aws-xray-sdk` would bring botocore into the layer (30 MB, and a second botocore
  beside the runtime's) and 0.1-0.3 s of imports to every cold start, for a dozen lines of JSON.
  `POWERTOOLS_TRACE_DISABLED=true` turns them off; unsampled requests send nothing.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

if TYPE_CHECKING:
    from gateway.chain import Attempt
    from gateway.providers.base import Generation
    from gateway.settings import Settings

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ai-gateway")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AiGateway"), service=SERVICE)

# How an attempt's outcome shows in a trace: a fault is the provider's (5xx-like), an error the
# request's (4xx-like); the skipped outcomes made no call and carry neither.
_FAULTS = frozenset({"timeout", "connection_error", "server_error", "malformed_response", "empty_response"})
_ERRORS = frozenset({"rate_limited", "auth_error", "invalid_request", "blocked", "invalid_output"})
_XRAY_HEADER = b'{"format": "json", "version": 1}\n'


def observe_attempt(attempt: Attempt, *, called: bool, generation: Generation | None = None) -> None:
    """Metrics and a trace subsegment for one provider attempt (`called`: a request reached the provider).

    The EMF record is written directly (the same JSON Powertools writes, about 5x cheaper than building
    an `EphemeralMetrics` per attempt): one line per attempt, on the request's path.
    """
    outcome = str(attempt.outcome)
    values: list[tuple[str, str, float]] = [("ProviderAttempts", "Count", 1)]
    if outcome == "ok":
        values.append(("ProviderAnswers", "Count", 1))
    elif called:
        values.append(("ProviderFailures", "Count", 1))
    else:
        values.append(("ProviderSkips", "Count", 1))
    if called:
        values.append(("ProviderLatency", "Milliseconds", attempt.latency_ms))
    if generation is not None:  # the provider answered (and billed), even when the answer was then rejected
        from gateway.catalogue import cost_usd

        values.append(("InputTokens", "Count", generation.input_tokens))
        values.append(("OutputTokens", "Count", generation.output_tokens))
        cost = cost_usd(attempt.model, generation.input_tokens, generation.output_tokens)
        if cost is not None:
            values.append(("CostUsd", "None", cost))
    request_id = logger.get_correlation_id()
    if not is_metrics_disabled():
        record = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": metrics.namespace,
                        "Dimensions": [["provider", "service"], ["service"]],
                        "Metrics": [{"Name": name, "Unit": unit} for name, unit, _ in values],
                    }
                ],
            },
            "provider": attempt.provider,
            "service": SERVICE,
            "model": attempt.model,
            "outcome": outcome,
            **({"request_id": request_id} if request_id else {}),
            **{name: value for name, _, value in values},
        }
        print(json.dumps(record, separators=(",", ":")))
    _trace_attempt(attempt, outcome, request_id)


def publish_spend(settings: Settings) -> None:
    """Today's spend against the daily caps, for the spend alarm and the dashboard.

    Called by the scheduled probe (one ledger read every few minutes, none on a request's path):
    `DailySpendUsd` is what all providers spent today, `SpendCapUtilisation` the committed share of
    the tightest cap, in percent. Without a cap there is nothing to report.
    """
    from gateway.resilience import resilience_for
    from gateway.spend import ALL

    caps = {ALL: settings.daily_cost_limit, "gemini": settings.gemini_daily_cost_limit}
    caps["huggingface"] = settings.huggingface_daily_cost_limit
    limits = {scope: cap for scope, cap in caps.items() if cap is not None}
    guard = resilience_for(settings).spend if limits else None
    if guard is None:
        return
    try:
        totals = guard.today(sorted({ALL, *limits}))
    except Exception as exc:  # a report must never fail the probe
        logger.error("could not read the spend ledger", extra={"error": f"{type(exc).__name__}: {exc}"})
        return
    used = [totals.get(scope, {}).get("committed_usd", 0.0) / cap for scope, cap in limits.items() if cap > 0]
    metrics.add_metric(name="DailySpendUsd", unit=MetricUnit.NoUnit, value=totals.get(ALL, {}).get("spent_usd", 0.0))
    metrics.add_metric(name="SpendCapUtilisation", unit=MetricUnit.Percent, value=round(100 * max(used, default=0), 4))


def _trace_attempt(attempt: Attempt, outcome: str, request_id: str | None) -> None:
    """Send the attempt as an X-Ray subsegment of the function's segment, when this request is traced."""
    target = _xray_target()
    if target is None:
        return
    address, trace_id, parent_id = target
    end = time.time()
    document = {
        "name": attempt.provider,
        "id": os.urandom(8).hex(),
        "trace_id": trace_id,
        "parent_id": parent_id,
        "type": "subsegment",
        "namespace": "remote",
        "start_time": end - attempt.latency_ms / 1000,
        "end_time": end,
        "fault": outcome in _FAULTS,
        "error": outcome in _ERRORS,
        "throttle": outcome == "rate_limited",
        "annotations": {
            "provider": attempt.provider,
            "model": attempt.model,
            "outcome": outcome,
            **({"request_id": request_id} if request_id else {}),
        },
        "metadata": {"gateway": {"error": attempt.error}} if attempt.error else {},
    }
    try:
        _socket().sendto(_XRAY_HEADER + json.dumps(document, separators=(",", ":")).encode(), address)
    except OSError as exc:  # tracing is best effort: never fail a request for it
        logger.debug("could not send a trace subsegment", extra={"error": str(exc)})


def _xray_target() -> tuple[tuple[str, int], str, str] | None:
    """The daemon's address and this invocation's trace and parent ids; None when not traced.

    Lambda sets `_X_AMZN_TRACE_ID` for each invocation (Root, Parent, Sampled) and
    `AWS_XRAY_DAEMON_ADDRESS` when active tracing is on.
    """
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return None
    header = dict(
        part.strip().split("=", 1) for part in os.environ.get("_X_AMZN_TRACE_ID", "").split(";") if "=" in part
    )
    if header.get("Sampled") != "1" or not header.get("Root") or not header.get("Parent"):
        return None
    for part in os.environ.get("AWS_XRAY_DAEMON_ADDRESS", "").split():  # "host:port" or "udp:host:port tcp:..."
        if part.startswith("tcp:"):
            continue
        host, _, port = part.removeprefix("udp:").rpartition(":")
        if host and port.isdigit():
            return (host, int(port)), header["Root"], header["Parent"]
    return None


_udp: socket.socket | None = None


def _socket() -> socket.socket:
    global _udp
    if _udp is None:
        _udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _udp.setblocking(False)
    return _udp
