"""The day's ratings per provider, in the provider state table: `ratings#<day>` counts `<provider>|positive` and
`<provider>|negative` (`ADD`: writes never conflict), kept 35 days. A rating replaced the same day moves from one
count to the other."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from gateway.stores.aws import dynamodb_table

RETENTION_S = 35 * 24 * 3600


class RatingCountStore:
    def __init__(self, table_name: str) -> None:
        self._table = dynamodb_table(table_name)

    def add(self, day: str, provider: str, positive: int, negative: int, expires_at: int) -> None:
        self._table.update_item(
            Key={"pk": f"ratings#{day}"},
            UpdateExpression="ADD #p :p, #n :n SET expires_at = :exp",
            ExpressionAttributeNames={"#p": f"{provider}|positive", "#n": f"{provider}|negative"},
            ExpressionAttributeValues={":p": positive, ":n": negative, ":exp": expires_at},
        )

    def day(self, day: str, providers: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(positive, negative) ratings given today, per provider that has any."""
        item = self._table.get_item(Key={"pk": f"ratings#{day}"}).get("Item") or {}
        counts = {}
        for provider in providers:
            positive = int(Decimal(str(item.get(f"{provider}|positive", 0))))
            negative = int(Decimal(str(item.get(f"{provider}|negative", 0))))
            if positive or negative:
                counts[provider] = (positive, negative)
        return counts
