"""The ws function: the WebSocket API's `$connect`, `$disconnect` and `$default` routes (docs/websocket.md)."""

from __future__ import annotations

from gateway.core.coldstart import loading

# The function's modules live as long as the process: no GC passes over them (gateway.core.coldstart).
with loading("ws app"):
    from gateway.endpoints import ws
    from gateway.http.lambda_entry import event_entry

    handler = event_entry(ws.handle_event)
