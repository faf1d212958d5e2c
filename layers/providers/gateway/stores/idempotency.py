"""The DynamoDB persistence layer of Powertools idempotency, keyed and expired like the other tables."""

from __future__ import annotations

from functools import lru_cache

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer


@lru_cache(maxsize=4)
def persistence_layer(table_name: str, purpose: str) -> DynamoDBPersistenceLayer:
    """One persistence layer per table and purpose: Powertools configures a layer once, for one use."""
    return DynamoDBPersistenceLayer(table_name=table_name, key_attr="pk", expiry_attr="expires_at")
