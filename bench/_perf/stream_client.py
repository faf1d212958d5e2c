"""Timing one streamed chat completion as a client sees it (`bench.streaming` and its LiteLLM child).

Standard library only, so that LiteLLM's own virtual environment can run it too: a raw HTTP/1.1 client that posts
an OpenAI-shaped request and reads the server-sent events as they arrive, noting when the first piece of content
came and when the stream ended.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class StreamTiming:
    first_s: float  # from the request to the first piece of content
    total_s: float  # from the request to the end of the stream
    pieces: int  # pieces of content


def stream_once(url: str, body: Mapping[str, object], headers: Mapping[str, str]) -> StreamTiming:
    """POST the body to an OpenAI-shaped chat completions URL with `stream: true` and time its events."""
    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
    started = time.perf_counter()
    first = 0.0
    pieces = 0
    try:
        data = json.dumps({**body, "stream": True}).encode()
        connection.request("POST", target.path, body=data, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}: {response.read()[:300]!r}")
        for raw in response:
            line = raw.strip()
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            event = json.loads(line[6:])
            choices = event.get("choices") or []
            if choices and (choices[0].get("delta") or {}).get("content"):
                pieces += 1
                if not first:
                    first = time.perf_counter() - started
    finally:
        connection.close()
    return StreamTiming(first, time.perf_counter() - started, pieces)
