"""Each API key's usage per UTC day, in the provider state table: one item per key and day (`usage#<day>#<key id>`)
whose numbers only ever grow (`ADD`, no condition: writes never conflict), kept 35 days.

`requests` counts the key's requests that called a provider; per provider and model, `calls` (the attempts that
reached it), `input_tokens`, `output_tokens` and `cost_units` (what was billed, in 1e-10 USD, as the spend ledger
counts it). Attribute names carry the provider and model: `m|<provider>|<model>|<figure>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.stores.aws import TableStore

RETENTION_S = 35 * 24 * 3600
FIGURES = ("calls", "input_tokens", "output_tokens", "cost_units")


def usage_key(day: str, api_key_id: str) -> str:
    return f"usage#{day}#{api_key_id}"


@dataclass
class ModelUsage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_units: int = 0


@dataclass
class DayUsage:
    """A key's day: its requests, and per (provider, model) what its calls used."""

    requests: int = 0
    models: dict[tuple[str, str], ModelUsage] = field(default_factory=dict)

    def add(self, other: DayUsage) -> None:
        self.requests += other.requests
        for name, usage in other.models.items():
            mine = self.models.setdefault(name, ModelUsage())
            for figure in FIGURES:
                setattr(mine, figure, getattr(mine, figure) + getattr(usage, figure))

    def empty(self) -> bool:
        return not self.requests and not self.models


class UsageStore(TableStore):
    def add(self, day: str, api_key_id: str, usage: DayUsage, expires_at: int) -> None:
        """Add `usage` to the key's day in one write."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":exp": expires_at}
        adds = []
        numbers: list[tuple[str, int]] = [("requests", usage.requests)] if usage.requests else []
        for (provider, model), figures in usage.models.items():
            numbers += [(f"m|{provider}|{model}|{figure}", getattr(figures, figure)) for figure in FIGURES]
        for index, (name, number) in enumerate(numbers):
            names[f"#n{index}"] = name
            values[f":v{index}"] = number
            adds.append(f"#n{index} :v{index}")
        if not adds:
            return
        self._table.update_item(
            Key={"pk": usage_key(day, api_key_id)},
            UpdateExpression="ADD " + ", ".join(adds) + " SET expires_at = :exp",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def day(self, day: str, api_key_id: str) -> DayUsage:
        item = self._table.get_item(Key={"pk": usage_key(day, api_key_id)}, ConsistentRead=True).get("Item")
        return _usage(item or {})


def _usage(item: Mapping[str, Any]) -> DayUsage:
    usage = DayUsage(requests=int(Decimal(str(item.get("requests", 0)))))
    for name, value in item.items():
        if not name.startswith("m|"):
            continue
        _, provider, rest = name.split("|", 2)
        model, _, figure = rest.rpartition("|")
        if figure in FIGURES:
            figures = usage.models.setdefault((provider, model), ModelUsage())
            setattr(figures, figure, int(Decimal(str(value))))
    return usage
