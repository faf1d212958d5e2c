"""The spend cap as it was before budget leases (commit e5a5eb9), kept only so that `bench.spend_and_breakers` can
run it beside the leases, on the same capacity model, in one run.

Each call reserved its worst case in one `TransactWriteItems` over every scope's item (the day's `all` item and the
provider's), and settled each scope with an `UpdateItem`: two to three writes on the same item per request, a
transactional write costing double. A failed transaction, a conflict included, was a refusal. The client retries as
the layer's clients now do (standard mode, 3 attempts), so that the bench compares the designs, not retry settings.
"""

from __future__ import annotations

import time
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import boto3
from botocore.config import Config

UNITS_PER_USD = 10**10


def _units(usd: float, rounding: str = ROUND_HALF_UP) -> int:
    return int((Decimal(str(usd)) * UNITS_PER_USD).to_integral_value(rounding=rounding))


class LegacySpend:
    """reserve -> (day, amount, scopes) or None (refused); settle(reservation, actual)."""

    def __init__(self, table_name: str, limits: dict[str, float]) -> None:
        config = Config(retries={"mode": "standard", "total_max_attempts": 3})
        self._table = boto3.resource("dynamodb", config=config).Table(table_name)
        self._table_name = table_name
        self._limits = limits

    def reserve(self, amount: float) -> tuple[str, float] | None:
        day = time.strftime("%Y-%m-%d", time.gmtime())
        reservation = _units(amount, ROUND_CEILING)
        updates: list[dict[str, Any]] = []
        for scope, limit in self._limits.items():
            headroom = _units(limit, ROUND_FLOOR) - reservation
            if headroom < 0:
                return None
            updates.append(
                {
                    "Update": {
                        "TableName": self._table_name,
                        "Key": {"pk": f"legacy#{day}#{scope}"},
                        "UpdateExpression": "SET committed = if_not_exists(committed, :zero) + :amount",
                        "ConditionExpression": "attribute_not_exists(committed) OR committed <= :headroom",
                        "ExpressionAttributeValues": {":zero": 0, ":amount": reservation, ":headroom": headroom},
                    }
                }
            )
        try:
            self._table.meta.client.transact_write_items(TransactItems=updates)  # type: ignore[arg-type]
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in (
                "ConditionalCheckFailedException",
                "TransactionCanceledException",
            ):
                return None  # a conflict, a throttle or the cap: all read as the cap
            raise
        return day, amount

    def settle(self, reservation: tuple[str, float], actual: float) -> None:
        day, reserved = reservation
        for scope in self._limits:
            self._table.update_item(
                Key={"pk": f"legacy#{day}#{scope}"},
                UpdateExpression="ADD committed :delta, spent :actual",
                ExpressionAttributeValues={
                    ":delta": _units(actual) - _units(reserved, ROUND_CEILING),
                    ":actual": _units(actual),
                },
            )

    def spent(self) -> float:
        day = time.strftime("%Y-%m-%d", time.gmtime())
        item = self._table.get_item(Key={"pk": f"legacy#{day}#all"}, ConsistentRead=True).get("Item") or {}
        return int(Decimal(str(item.get("spent", 0)))) / UNITS_PER_USD
