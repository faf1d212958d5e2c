"""The DynamoDB persistence layer of Powertools idempotency, keyed and expired like the other tables."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.stores.aws import aws_config


@lru_cache(maxsize=4)
def persistence_layer(table_name: str, purpose: str) -> DynamoDBPersistenceLayer:
    """One persistence layer per table and purpose: Powertools configures a layer once, for one use."""
    return DynamoDBPersistenceLayer(
        table_name=table_name, key_attr="pk", expiry_attr="expires_at", boto_config=aws_config()
    )


def once_per_key(
    func: Callable[..., Any],
    *,
    data_keyword: str,
    key_field: str,
    purpose: str,
    table_name: str,
    expires_after_s: int,
    context: LambdaContext | None,
    same_payload: bool = False,
) -> Callable[..., Any]:
    """`func` run once per value of `key_field` in its `data_keyword` argument; a repeat gets the first result.

    `same_payload`: a repeat must carry the same data as the first, else `IdempotencyValidationError` (a key reused
    for another request is refused, not answered with the first one's result).
    """
    config = IdempotencyConfig(
        event_key_jmespath=key_field,
        payload_validation_jmespath="@" if same_payload else "",
        expires_after_seconds=expires_after_s,
    )
    if context is not None:
        config.register_lambda_context(context)
    once: Callable[..., Any] = idempotent_function(
        func,
        data_keyword_argument=data_keyword,
        persistence_store=persistence_layer(table_name, purpose),
        config=config,
        key_prefix=purpose,
    )
    return once
