"""The WebSocket API's connections: who is connected (DynamoDB, with a TTL), and the management API that sends
them frames (`apigatewaymanagementapi`), where a connection that has gone answers 410 (`GoneException`)."""

from __future__ import annotations

import time

from gateway.stores.aws import dynamodb_table, management_api_client


class ConnectionGone(Exception):
    """The client has left: API Gateway answered 410 (GoneException) for its connection."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"connection {connection_id} has gone")
        self.connection_id = connection_id


class ConnectionStore:
    """One item per open connection; the TTL removes what a lost `$disconnect` left behind."""

    def __init__(self, table_name: str, ttl_s: int) -> None:
        self._table = dynamodb_table(table_name)
        self._ttl_s = ttl_s

    def add(self, connection_id: str, api_key_id: str, connected_at_ms: int) -> None:
        now = int(time.time())
        self._table.put_item(
            Item={
                "connection_id": connection_id,
                "api_key_id": api_key_id,
                "connected_at": connected_at_ms,
                "expires_at": now + self._ttl_s,
            }
        )

    def api_key_id(self, connection_id: str) -> str | None:
        """The id of the API key the connection was accepted with; None when it is not (or no longer) known."""
        item = self._table.get_item(Key={"connection_id": connection_id}, ProjectionExpression="api_key_id").get("Item")
        value = item.get("api_key_id") if item else None
        return value if isinstance(value, str) and value else None

    def remove(self, connection_id: str) -> None:
        self._table.delete_item(Key={"connection_id": connection_id})


class ManagementApi:
    """A WebSocket API stage's management API: `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`."""

    def __init__(self, endpoint_url: str) -> None:
        self._client = management_api_client(endpoint_url)

    def send(self, connection_id: str, data: bytes) -> None:
        """Send one message to the connection; ConnectionGone when the client has left."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._client.exceptions.GoneException:
            raise ConnectionGone(connection_id) from None
