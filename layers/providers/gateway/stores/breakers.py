"""Circuit-breaker state in DynamoDB, shared by every Lambda instance.

One item per provider and model (`breaker#<provider>#<model>`). Every transition is a conditional
write, so that when many instances race, exactly one opens the breaker and exactly one takes the
half-open probe lease. The healthy path writes nothing: failures are counted, and successes only
while the current window has failures (enough to compute a failure rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.stores.aws import dynamodb_table, is_conditional_failure

RETENTION_S = 7 * 24 * 3600


@dataclass(frozen=True)
class BreakerRecord:
    """A breaker as stored. `state` is closed or open; half-open is open with `open_until` passed."""

    key: str
    state: str = "closed"
    failures: int = 0
    successes: int = 0
    window_id: int = 0
    open_until: float = 0.0
    lease_until: float = 0.0
    last_error: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> BreakerRecord:
        return cls(
            key=str(item["pk"]),
            state=str(item.get("state", "closed")),
            failures=int(item.get("failures", 0)),
            successes=int(item.get("successes", 0)),
            window_id=int(item.get("window_id", 0)),
            open_until=float(item.get("open_until", 0)),
            lease_until=float(item.get("lease_until", 0)),
            last_error=str(item["last_error"]) if item.get("last_error") else None,
        )


def breaker_key(provider: str, model: str) -> str:
    return f"breaker#{provider}#{model}"


def _dec(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class BreakerStore:
    def __init__(self, table_name: str) -> None:
        self._table = dynamodb_table(table_name)
        self._table_name = table_name

    def read_many(self, keys: Sequence[str]) -> dict[str, BreakerRecord]:
        """Every requested breaker in one batch read; a missing item is a closed breaker."""
        records = {key: BreakerRecord(key) for key in keys}
        if not keys:
            return records
        client = self._table.meta.client
        answer = client.batch_get_item(
            RequestItems={self._table_name: {"Keys": [{"pk": k} for k in keys], "ConsistentRead": True}}
        )
        for item in answer.get("Responses", {}).get(self._table_name, []):
            record = BreakerRecord.from_item(item)
            records[record.key] = record
        return records

    def _update_if(self, key: str, update: str, condition: str, values: dict[str, Any]) -> dict[str, Any] | None:
        """A conditional update: the item as written, or None when the condition did not hold."""
        names = {"ExpressionAttributeNames": {"#s": "state"}} if "#s" in update + condition else {}  # reserved word
        try:
            answer = self._table.update_item(
                Key={"pk": key},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                **names,  # type: ignore[arg-type]  # DynamoDB rejects an empty ExpressionAttributeNames
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return dict(answer["Attributes"])

    def record_failure(self, key: str, window: int, error: str, now: float) -> BreakerRecord:
        """Count a failure in tumbling window number `window`, starting it when it is new."""
        values: dict[str, Any] = {":one": 1, ":w": window, ":err": error[:300], ":exp": int(now) + RETENTION_S}
        for _ in range(3):  # the same window; a new one; or a race with another instance's new one
            item = self._update_if(
                key, "ADD failures :one SET last_error = :err, expires_at = :exp", "window_id = :w", values
            ) or self._update_if(
                key,
                "SET window_id = :w, failures = :one, successes = :zero, last_error = :err, expires_at = :exp",
                "attribute_not_exists(window_id) OR window_id < :w",
                {**values, ":zero": 0},
            )
            if item is not None:
                return BreakerRecord.from_item(item)
        raise RuntimeError(f"could not count a failure on {key}")

    def record_success(self, key: str, window: int) -> None:
        """Count a success, only in a window that has failures (the failure rate needs both)."""
        self._update_if(
            key, "ADD successes :one", "window_id = :w AND failures > :zero", {":one": 1, ":zero": 0, ":w": window}
        )

    def open(self, key: str, open_until: float, now: float) -> bool:
        """Open a closed breaker; True for the one instance whose write did it."""
        item = self._update_if(
            key,
            "SET #s = :open, open_until = :until, opened_at = :now REMOVE lease_until",
            "attribute_not_exists(#s) OR #s = :closed",
            {":open": "open", ":closed": "closed", ":until": _dec(open_until), ":now": _dec(now)},
        )
        return item is not None

    def extend(self, key: str, open_until: float) -> None:
        """Keep an open breaker open at least until `open_until` (a long Retry-After)."""
        self._update_if(
            key,
            "SET open_until = :until",
            "#s = :open AND open_until < :until",
            {":open": "open", ":until": _dec(open_until)},
        )

    def take_probe_lease(self, key: str, now: float, lease_s: float) -> bool:
        """The half-open lease: True for exactly one instance once the cool-down has passed."""
        item = self._update_if(
            key,
            "SET lease_until = :lease",
            "#s = :open AND open_until <= :now AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            {":open": "open", ":now": _dec(now), ":lease": _dec(now + lease_s)},
        )
        return item is not None

    def reopen(self, key: str, open_until: float, error: str) -> None:
        """A failed probe: open for another cool-down and free the lease."""
        self._table.update_item(
            Key={"pk": key},
            UpdateExpression="SET #s = :open, open_until = :until, last_error = :err REMOVE lease_until",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":open": "open", ":until": _dec(open_until), ":err": error[:300]},
        )

    def close(self, key: str, now: float) -> None:
        """Close the breaker for every instance (a successful probe, or an admin reset)."""
        self._table.update_item(
            Key={"pk": key},
            UpdateExpression=(
                "SET #s = :closed, failures = :zero, successes = :zero, closed_at = :now "
                "REMOVE open_until, lease_until, last_error"
            ),
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":closed": "closed", ":zero": 0, ":now": _dec(now)},
        )
