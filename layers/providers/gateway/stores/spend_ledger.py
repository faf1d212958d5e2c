"""The daily spend ledger in DynamoDB: reserve the worst case before a call, settle the real cost after.

One item per day and scope (`spend-units#<YYYY-MM-DD>#<scope>`, scope `all` or a provider). `committed` is
settled spend plus open reservations; a reservation is a conditional write that succeeds only while
`committed + amount <= limit`, and all scopes of one call are reserved in one transaction. So a burst
of concurrent requests cannot push `committed` past the cap, whatever the interleaving.

Amounts are stored as integers of 1e-10 USD: exact sums, and no number written in exponent form (a
decimal that returns to zero, `0E-10`, is no number to moto). A reservation rounds up, a real cost to
the nearest unit, so a call's cost never exceeds its reservation. (Earlier ledgers, `spend#...` items in
USD, are never read as units: a stack upgraded during a day counts that day's spend from the upgrade.)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from gateway.stores.aws import dynamodb_table, is_conditional_failure

RETENTION_S = 35 * 24 * 3600
UNITS_PER_USD = 10**10


def _units(usd: float, rounding: str = ROUND_HALF_UP) -> int:
    return int((Decimal(str(usd)) * UNITS_PER_USD).to_integral_value(rounding=rounding))


def ledger_key(day: str, scope: str) -> str:
    return f"spend-units#{day}#{scope}"


class SpendLedgerStore:
    def __init__(self, table_name: str) -> None:
        self._table = dynamodb_table(table_name)
        self._table_name = table_name

    def reserve(self, day: str, limits: Mapping[str, float], amount: float, expires_at: int) -> bool:
        """Reserve `amount` USD in every scope at once; False when any scope's limit would be passed."""
        reservation = _units(amount, ROUND_CEILING)
        updates: list[dict[str, Any]] = []
        for scope, limit in limits.items():
            headroom = _units(limit, ROUND_FLOOR) - reservation
            if headroom < 0:
                return False
            updates.append(
                {
                    "Update": {
                        "TableName": self._table_name,
                        "Key": {"pk": ledger_key(day, scope)},
                        "UpdateExpression": (
                            "SET committed = if_not_exists(committed, :zero) + :amount, expires_at = :exp"
                        ),
                        "ConditionExpression": "attribute_not_exists(committed) OR committed <= :headroom",
                        "ExpressionAttributeValues": {
                            ":zero": 0,
                            ":amount": reservation,
                            ":headroom": headroom,
                            ":exp": expires_at,
                        },
                    }
                }
            )
        if not updates:
            return True
        try:
            # The resource's client takes plain Python values (it serialises them itself).
            self._table.meta.client.transact_write_items(TransactItems=updates)  # type: ignore[arg-type]
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def settle(self, day: str, scopes: list[str], reserved: float, actual: float, expires_at: int) -> None:
        """Replace a reservation by the real cost (0 when the call failed) in every scope."""
        for scope in scopes:
            self._table.update_item(
                Key={"pk": ledger_key(day, scope)},
                UpdateExpression="ADD committed :delta, spent :actual, calls :one SET expires_at = :exp",
                ExpressionAttributeValues={
                    ":delta": _units(actual) - _units(reserved, ROUND_CEILING),
                    ":actual": _units(actual),
                    ":one": 1,
                    ":exp": expires_at,
                },
            )

    def totals(self, day: str, scopes: list[str]) -> dict[str, dict[str, float]]:
        """Spent and committed USD per scope for a day (for status)."""
        if not scopes:
            return {}
        answer = self._table.meta.client.batch_get_item(
            RequestItems={self._table_name: {"Keys": [{"pk": ledger_key(day, s)} for s in scopes]}}
        )
        found = {str(item["pk"]): item for item in answer.get("Responses", {}).get(self._table_name, [])}
        totals = {}
        for scope in scopes:
            item = found.get(ledger_key(day, scope), {})
            totals[scope] = {
                "spent_usd": int(Decimal(str(item.get("spent", 0)))) / UNITS_PER_USD,
                "committed_usd": int(Decimal(str(item.get("committed", 0)))) / UNITS_PER_USD,
            }
        return totals
