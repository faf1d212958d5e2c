"""What every piece of endpoint logic needs to know about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.chain import Deadline
from gateway.settings import Settings
from gateway.stores.secrets import ProviderKeys


@dataclass(frozen=True)
class RequestContext:
    settings: Settings
    keys: ProviderKeys
    request_id: str
    deadline: Deadline
