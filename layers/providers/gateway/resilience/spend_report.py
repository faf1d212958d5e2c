"""Today's spend against the daily caps, as metrics for the spend alarm and the dashboard."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from gateway.config.settings import Settings
from gateway.observability import logger, metrics
from gateway.resilience.guards import resilience_for
from gateway.resilience.spend import ALL


def publish_spend(settings: Settings) -> None:
    """`DailySpendUsd` (what all providers spent today) and `SpendCapUtilisation` (the committed share of the
    tightest cap, in percent).

    Called by the scheduled probe (one ledger read every few minutes, none on a request's path). Without a cap
    there is nothing to report.
    """
    guard = resilience_for(settings).spend
    limits = guard.caps() if guard is not None else {}
    if guard is None or not limits:
        return
    try:
        totals = guard.today(sorted({ALL, *limits}))
    except Exception as exc:  # a report must never fail the probe
        logger.error("could not read the spend ledger", extra={"error": f"{type(exc).__name__}: {exc}"})
        return
    used = [totals.get(scope, {}).get("committed_usd", 0.0) / cap for scope, cap in limits.items() if cap > 0]
    metrics.add_metric(name="DailySpendUsd", unit=MetricUnit.NoUnit, value=totals.get(ALL, {}).get("spent_usd", 0.0))
    metrics.add_metric(name="SpendCapUtilisation", unit=MetricUnit.Percent, value=round(100 * max(used, default=0), 4))
