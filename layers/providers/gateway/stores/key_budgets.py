"""Each API key's own daily budget, in the provider state table: `key-budget#<api key id>` holds `daily_usd` and
`daily_requests` (either may be absent), who set it and when. Kept until deleted (no expiry)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.stores.aws import TableStore


def budget_key(api_key_id: str) -> str:
    return f"key-budget#{api_key_id}"


@dataclass(frozen=True)
class KeyBudget:
    daily_usd: float | None = None
    daily_requests: int | None = None
    updated_at: float = 0.0
    updated_by: str = ""


class KeyBudgetStore(TableStore):
    def get(self, api_key_id: str) -> KeyBudget | None:
        item = self._table.get_item(Key={"pk": budget_key(api_key_id)}, ConsistentRead=True).get("Item")
        if item is None:
            return None
        usd, requests = item.get("daily_usd"), item.get("daily_requests")
        return KeyBudget(
            daily_usd=float(str(usd)) if usd is not None else None,
            daily_requests=int(str(requests)) if requests is not None else None,
            updated_at=float(str(item.get("updated_at", 0))),
            updated_by=str(item.get("updated_by", "")),
        )

    def put(self, api_key_id: str, budget: KeyBudget) -> None:
        item: dict[str, Any] = {
            "pk": budget_key(api_key_id),
            "updated_at": Decimal(f"{budget.updated_at:.3f}"),
            "updated_by": budget.updated_by,
        }
        if budget.daily_usd is not None:
            item["daily_usd"] = Decimal(str(budget.daily_usd))
        if budget.daily_requests is not None:
            item["daily_requests"] = budget.daily_requests
        self._table.put_item(Item=item)

    def delete(self, api_key_id: str) -> bool:
        """Remove the key's budget; False when it had none."""
        answer = self._table.delete_item(Key={"pk": budget_key(api_key_id)}, ReturnValues="ALL_OLD")
        return bool(answer.get("Attributes"))
