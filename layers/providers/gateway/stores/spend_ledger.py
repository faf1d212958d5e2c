"""The daily spend ledger in DynamoDB: reserve the worst case before a call, settle the real cost after.

One item per day and scope (`spend#<YYYY-MM-DD>#<scope>`, scope `all` or a provider). `committed` is
settled spend plus open reservations; a reservation is a conditional write that succeeds only while
`committed + amount <= limit`, and all scopes of one call are reserved in one transaction. So a burst
of concurrent requests cannot push `committed` past the cap, whatever the interleaving.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.stores.aws import dynamodb_table, is_conditional_failure

if TYPE_CHECKING:
    pass

RETENTION_S = 35 * 24 * 3600
_PRECISION = Decimal("0.0000000001")


def _usd(value: float) -> Decimal:
    return Decimal(str(value)).quantize(_PRECISION)


def ledger_key(day: str, scope: str) -> str:
    return f"spend#{day}#{scope}"


class SpendLedgerStore:
    def __init__(self, table_name: str) -> None:
        self._table = dynamodb_table(table_name)
        self._table_name = table_name

    def reserve(self, day: str, limits: Mapping[str, float], amount: float, expires_at: int) -> bool:
        """Reserve `amount` USD in every scope at once; False when any scope's limit would be passed."""
        reservation = _usd(amount)
        updates: list[dict[str, Any]] = []
        for scope, limit in limits.items():
            headroom = _usd(limit) - reservation
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
                            ":zero": Decimal(0),
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
                    ":delta": _usd(actual) - _usd(reserved),
                    ":actual": _usd(actual),
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
                "spent_usd": float(str(item.get("spent", 0))),
                "committed_usd": float(str(item.get("committed", 0))),
            }
        return totals
