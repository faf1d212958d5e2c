"""The playground page (dev-only, plain HTML and JavaScript, no build step), served by `make run` at /playground.

Chat over the WebSocket API with the answer appearing as it streams and the attempts as a timeline, points drawn as
an SVG plot, an error analysis laid out, and the providers' status, circuits and today's spend. Its settings (the
HTTP and WebSocket URLs and the API key) start at the local stack's and can be pointed at a deployed API; they live
only in the page's memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}


def _file(name: str) -> Callable[[], dict[str, Any]]:
    def page() -> dict[str, Any]:
        body = (HERE / name).read_text()  # read on each request: edit, reload
        headers = {"Content-Type": _TYPES[Path(name).suffix], "Cache-Control": "no-store"}
        return {"statusCode": 200, "headers": headers, "body": body}

    return page


def playground_pages(ws_url: str, api_key: str) -> dict[str, Callable[[], dict[str, Any]]]:
    """The playground's paths for the local API: the page, its script and style, and the local stack's settings."""
    settings = json.dumps({"http_url": "", "ws_url": ws_url, "api_key": api_key})

    def config() -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": settings}

    pages = {f"/playground/{name}": _file(name) for name in ("playground.js", "playground.css")}
    return {"/playground": _file("index.html"), "/playground/config.json": config, **pages}
