"""Circuit-breaker state in DynamoDB, shared by every Lambda instance.

One item per provider and model (`breaker#<provider>#<model>`), which also counts its transitions (`opens`, `probes`,
`closes`: what an operator, and the multi-instance tests, read to see that each happened once). Every transition is a
conditional write, so that when many instances race, exactly one opens the breaker and exactly one takes the half-open
probe lease, and only the holder of that lease (its token) can close or reopen it. The healthy path writes nothing:
failures are counted (each instance adds what it saw since its last write, at most one write per flush interval), and
successes only while the current window has failures (enough to compute a failure rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.stores.aws import TableStore, deserialize, dynamodb_client, is_conditional_failure

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
    lease_id: str | None = None
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
            lease_id=str(item["lease_id"]) if item.get("lease_id") else None,
            last_error=str(item["last_error"]) if item.get("last_error") else None,
        )


def breaker_key(provider: str, model: str) -> str:
    return f"breaker#{provider}#{model}"


def _dec(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class BreakerStore(TableStore):
    def read_many(self, keys: Sequence[str]) -> dict[str, BreakerRecord]:
        """Every requested breaker in one batch read; a missing item is a closed breaker."""
        records = {key: BreakerRecord(key) for key in keys}
        if not keys:
            return records
        # The low-level client: the read of every request (at most once a second per instance), which then needs no
        # DynamoDB resource at a cold start (the conditional writes below, off the healthy path, use the table).
        answer = dynamodb_client().batch_get_item(
            RequestItems={self._table_name: {"Keys": [{"pk": {"S": k}} for k in keys], "ConsistentRead": True}}
        )
        for item in answer.get("Responses", {}).get(self._table_name, []):
            record = BreakerRecord.from_item(deserialize(item))
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

    def record_counts(
        self, key: str, window: int, failures: int, successes: int, error: str | None, now: float
    ) -> BreakerRecord | None:
        """Add an instance's counts to tumbling window number `window`, starting the window when it is new.

        Successes alone never start a window (a healthy provider writes nothing): None when there was no window
        with failures to add them to.
        """
        values: dict[str, Any] = {":f": failures, ":s": successes, ":w": window, ":exp": int(now) + RETENTION_S}
        counted = "expires_at = :exp" + (", last_error = :err" if error is not None else "")
        if error is not None:
            values[":err"] = error[:300]
        update = f"ADD failures :f, successes :s SET {counted}"
        started = f"SET window_id = :w, failures = :f, successes = :s, {counted}"
        if failures == 0:
            item = self._update_if(key, update, "window_id = :w AND failures > :zero", {**values, ":zero": 0})
            return BreakerRecord.from_item(item) if item is not None else None
        for _ in range(3):  # the same window; a new one; or a race with another instance's new one
            item = self._update_if(key, update, "window_id = :w", values) or self._update_if(
                key, started, "attribute_not_exists(window_id) OR window_id < :w", values
            )
            if item is not None:
                return BreakerRecord.from_item(item)
        raise RuntimeError(f"could not count failures on {key}")

    def open(self, key: str, open_until: float, now: float) -> bool:
        """Open a closed breaker; True for the one instance whose write did it."""
        item = self._update_if(
            key,
            "SET #s = :open, open_until = :until, opened_at = :now ADD opens :one REMOVE lease_until, lease_id",
            "attribute_not_exists(#s) OR #s = :closed",
            {":open": "open", ":closed": "closed", ":until": _dec(open_until), ":now": _dec(now), ":one": 1},
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

    def take_probe_lease(self, key: str, now: float, lease_s: float, token: str) -> bool:
        """The half-open lease: True for exactly one instance once the cool-down has passed; `token` names it."""
        item = self._update_if(
            key,
            "SET lease_until = :lease, lease_id = :token ADD probes :one",
            "#s = :open AND open_until <= :now AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            {":open": "open", ":now": _dec(now), ":lease": _dec(now + lease_s), ":token": token, ":one": 1},
        )
        return item is not None

    def close_probe(self, key: str, token: str, now: float) -> bool:
        """A successful probe closes the breaker for all, if it still holds the lease (`token`)."""
        item = self._update_if(
            key,
            "SET #s = :closed, failures = :zero, successes = :zero, closed_at = :now ADD closes :one "
            "REMOVE open_until, lease_until, lease_id, last_error",
            "#s = :open AND lease_id = :token",
            {":closed": "closed", ":open": "open", ":zero": 0, ":now": _dec(now), ":token": token, ":one": 1},
        )
        return item is not None

    def reopen_probe(self, key: str, token: str, open_until: float, error: str) -> bool:
        """A failed probe opens the breaker for another cool-down and frees the lease, if it still holds it."""
        item = self._update_if(
            key,
            "SET open_until = :until, last_error = :err REMOVE lease_until, lease_id",
            "#s = :open AND lease_id = :token",
            {":open": "open", ":until": _dec(open_until), ":err": error[:300], ":token": token},
        )
        return item is not None

    def close(self, key: str, now: float) -> None:
        """Close the breaker for every instance, whoever holds the lease (an admin's reset)."""
        self._table.update_item(
            Key={"pk": key},
            UpdateExpression=(
                "SET #s = :closed, failures = :zero, successes = :zero, closed_at = :now "
                "REMOVE open_until, lease_until, lease_id, last_error"
            ),
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":closed": "closed", ":zero": 0, ":now": _dec(now)},
        )
