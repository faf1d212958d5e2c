"""The one module that wires observability for every function: logs, metrics and traces.

- **Logs**: Powertools `Logger`, JSON lines with the request's correlation id (a client's valid
  `X-Request-Id`, else API Gateway's request id; see `gateway.http.envelope`).
- **Metrics**: Powertools `Metrics` in CloudWatch's embedded metric format (EMF: a JSON line on
  stdout, no API call), namespace `POWERTOOLS_METRICS_NAMESPACE`, dimension `service`:
  `Requests`, `ClientErrors`, `ServerErrors` (per HTTP request), `Fallbacks`, `Breaker<Change>`,
  `ProvidersProbed`, `ProbeFailures`, `DailySpendUsd`, `SpendCapUtilisation` (the scheduled probe).
  Each provider attempt writes its own EMF record (`put_metrics_record`, from
  `gateway.resilience.attempts.observe_attempt`), so that its `provider`
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
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ai-gateway")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AiGateway"), service=SERVICE)

_XRAY_HEADER = b'{"format": "json", "version": 1}\n'


def put_metrics_record(
    dimensions: Mapping[str, str], values: Sequence[tuple[str, str, float]], properties: Mapping[str, Any]
) -> None:
    """One EMF record of its own, so that its `dimensions` apply to its metrics only (a provider attempt's).

    Dimension sets: [*dimensions, service] and [service] (the total). `values` are (name, unit, value). Written
    directly (the same JSON Powertools writes, about 5x cheaper than building an `EphemeralMetrics` per record):
    one line per record, on the request's path.
    """
    if is_metrics_disabled():
        return
    record = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": metrics.namespace,
                    "Dimensions": [[*dimensions, "service"], ["service"]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit, _ in values],
                }
            ],
        },
        **dimensions,
        "service": SERVICE,
        **properties,
        **{name: value for name, _, value in values},
    }
    print(json.dumps(record, separators=(",", ":")))


def trace_subsegment(
    name: str,
    duration_ms: float,
    *,
    fault: bool,
    error: bool,
    throttle: bool,
    annotations: Mapping[str, str],
    metadata: Mapping[str, Any],
) -> None:
    """Send a remote call that just ended as an X-Ray subsegment of the function's segment, when traced."""
    target = _xray_target()
    if target is None:
        return
    address, trace_id, parent_id = target
    end = time.time()
    document = {
        "name": name,
        "id": os.urandom(8).hex(),
        "trace_id": trace_id,
        "parent_id": parent_id,
        "type": "subsegment",
        "namespace": "remote",
        "start_time": end - duration_ms / 1000,
        "end_time": end,
        "fault": fault,
        "error": error,
        "throttle": throttle,
        "annotations": dict(annotations),
        "metadata": dict(metadata),
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


def forget_trace_socket() -> None:
    """Close the X-Ray socket (after a SnapStart restore); the next subsegment opens another."""
    global _udp
    if _udp is not None:
        _udp.close()
        _udp = None
