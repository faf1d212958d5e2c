"""The daily spend ledger in DynamoDB, written when an instance leases a slice of a cap or gives one back.

One item per day and scope (`spend-units#<YYYY-MM-DD>#<scope>`, scope `all` or a provider): `committed` is every slice
leased and not given back plus every overrun charged, `spent` what returned leases reported spent, `writes` how many
times the item was written. Leasing is one conditional `UpdateItem` that succeeds only while `committed + take -
give_back <= limit`, so however many instances lease at once, `committed` never passes the cap. `overrun#<model>` says
how many times its worst case a model was seen to bill (instances learn it from the item their next lease returns). Each
scope is its own item, leased on its own: no transaction, so no instance ever holds an item that another one's write
would conflict with (DynamoDB cancels a transaction on an item another transaction holds, and refuses a plain write on
it).

Amounts are integers of 1e-10 USD: exact sums, and no number written in exponent form (a decimal that returns to zero,
`0E-10`, is no number to moto). A worst case rounds up, a real cost to the nearest unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from gateway.stores.aws import TableStore, is_conditional_failure, retrying

RETENTION_S = 35 * 24 * 3600
UNITS_PER_USD = 10**10
OVERRUN_PREFIX = "overrun#"


def usd_units(usd: float, rounding: str = ROUND_HALF_UP) -> int:
    """USD as ledger units (1e-10 USD); ROUND_CEILING for a worst case, ROUND_FLOOR for a limit."""
    return int((Decimal(str(usd)) * UNITS_PER_USD).to_integral_value(rounding=rounding))


def units_usd(units: int) -> float:
    return units / UNITS_PER_USD


def ledger_key(day: str, scope: str) -> str:
    return f"spend-units#{day}#{scope}"


@dataclass(frozen=True)
class LedgerItem:
    """A ledger item as the last write left it: units, and what instances learned of models' overruns."""

    committed: int
    spent: int
    overruns: dict[str, float] = field(default_factory=dict)  # model -> times its worst case it was seen to bill


class SpendLedgerStore(TableStore):
    def __init__(self, table_name: str, pause: Callable[[float], None] | None = None) -> None:
        super().__init__(table_name)
        self._pause = pause

    def lease(
        self, day: str, scope: str, limit: int, take: int, give_back: int, spent: int, expires_at: int
    ) -> LedgerItem | None:
        """Take `take` units of the cap while giving `give_back` back and reporting `spent`, in one write.

        Conditional only when something is taken: None when `committed` would pass `limit`. Giving back alone
        (`take` 0) always succeeds. A conflict or a throttle is retried a few times, then raised.
        """
        net = take - give_back
        if take > 0 and net > limit:
            return None  # no room even in an empty ledger (the condition below lets a missing item through)
        values: dict[str, Any] = {":zero": 0, ":net": net, ":spent": spent, ":one": 1, ":exp": expires_at}
        request: dict[str, Any] = {
            "Key": {"pk": ledger_key(day, scope)},
            "UpdateExpression": (
                "SET committed = if_not_exists(committed, :zero) + :net, expires_at = :exp "
                "ADD spent :spent, writes :one"
            ),
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if take > 0:
            request["ConditionExpression"] = "attribute_not_exists(committed) OR committed <= :room"
            values[":room"] = limit - net
        try:
            answer = retrying(lambda: self._table.update_item(**request), pause=self._pause)
        except Exception as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return _item(answer["Attributes"])

    def charge(self, day: str, scope: str, units: int, expires_at: int) -> LedgerItem:
        """Add what a provider billed beyond every reservation and lease to `committed`, unconditionally."""
        answer = retrying(
            lambda: self._table.update_item(
                Key={"pk": ledger_key(day, scope)},
                UpdateExpression="ADD committed :units, writes :one SET expires_at = :exp",
                ExpressionAttributeValues={":units": units, ":one": 1, ":exp": expires_at},
                ReturnValues="ALL_NEW",
            ),
            pause=self._pause,
        )
        return _item(answer["Attributes"])

    def learn_overrun(self, day: str, scope: str, model: str, factor: float, expires_at: int) -> None:
        """Tell every instance that `model` billed `factor` times its worst case (kept only if it is more than what
        the item says already): each instance reads it back with its next lease."""
        try:
            retrying(
                lambda: self._table.update_item(
                    Key={"pk": ledger_key(day, scope)},
                    UpdateExpression="SET #o = :f, expires_at = :exp",
                    ConditionExpression="attribute_not_exists(#o) OR #o < :f",
                    ExpressionAttributeNames={"#o": OVERRUN_PREFIX + model},
                    ExpressionAttributeValues={":f": Decimal(f"{factor:.4f}"), ":exp": expires_at},
                ),
                pause=self._pause,
            )
        except Exception as exc:
            if not is_conditional_failure(exc):
                raise

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
            item = _item(found.get(ledger_key(day, scope), {}))
            totals[scope] = {"spent_usd": units_usd(item.spent), "committed_usd": units_usd(item.committed)}
        return totals


def _item(attributes: Any) -> LedgerItem:
    return LedgerItem(
        committed=int(Decimal(str(attributes.get("committed", 0)))),
        spent=int(Decimal(str(attributes.get("spent", 0)))),
        overruns={
            name.removeprefix(OVERRUN_PREFIX): float(value)
            for name, value in attributes.items()
            if name.startswith(OVERRUN_PREFIX)
        },
    )
