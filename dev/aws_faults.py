"""The AWS fault injector: a proxy on `AWS_ENDPOINT_URL`, in front of a moto server, that is as impolite as AWS.

moto applies a condition and its write in two steps, never conflicts and never throttles. This proxy sits between
boto3 and moto and adds what the real services do (dev and tests only, never in the Lambda layer):

- **Item operations are serialised** as DynamoDB serialises them: each item's reads and writes pass one at a time
  (moto's threaded server would interleave a condition and its write between two requests).
- **Transactions conflict.** While a `TransactWriteItems` holds its items (for `transaction_hold_s` plus the time
  moto takes), another transaction on one of them is cancelled (`TransactionCanceledException`, reason
  `TransactionConflict`) and a plain write on one of them is refused (`TransactionConflictException`).
- **A capacity model per partition key**: write and read units per second (a token bucket holding `burst_s` of
  them), a transactional write costing two units an item, as DynamoDB limits one partition key to about 1,000 write
  and 3,000 read units a second. `Capacity.scaled(0.02)` keeps the ratio and scales the numbers down so that a
  laptop reaches the limit. Past it, `ProvisionedThroughputExceededException` naming the key range.
- **Faults on request**, by service, operation, table and partition key prefix: throttling, conflicts, internal
  errors, any other error code, latency; once, N times or until cleared.

The error answers are the services' own wire shapes (`dev.aws_wire`), so botocore parses them, and retries them or
not, as it does against AWS.

Why a proxy and not botocore event hooks: the promises under test span instances, and an instance is a process. A
hook lives in the process that registers it, so a capacity limit, an item lock or a transaction's hold could only
be counted within one process, while every Lambda instance shares one table. The proxy is the one place every
process's calls meet, as they meet at DynamoDB, so separate interpreters (the multi-process tests, `bench/`) and
`make run` (the local API, the queue pollers, and any `make invoke` against it) all see the same limits, with no
change to the gateway but its endpoint. It also keeps botocore honest: it parses real error bytes, and its own
retry logic runs as it does in AWS, where a hook would hand it a response already parsed. The price is one more
loopback hop per AWS call (a fraction of a millisecond) and a second server to start, which `start_faulty_aws`
does.

    from dev.aws_faults import start_faulty_aws
    moto_server, injector = start_faulty_aws()           # os.environ["AWS_ENDPOINT_URL"] = injector.url
    injector.fail("dynamodb", "TransactWriteItems", "conflict", times=1)
    injector.set_capacity(Capacity.scaled(0.02))         # 20 write units/s per partition key

Over HTTP (`make run` prints its address): `POST /__aws_faults/faults` with `{"service", "operation", "error",
"key_prefix", "table", "delay_s", "times", "after"}`; `POST /__aws_faults/capacity` with `{"write_units_per_s",
"read_units_per_s", "burst_s", "transaction_hold_s"}`; `GET /__aws_faults/stats`; `POST /__aws_faults/reset`.
Alone: `python -m dev.aws_faults --upstream http://127.0.0.1:5000` (or `--moto` to start a moto server too).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from dev.aws_wire import (
    INTERNAL,
    SINGLE_WRITES,
    AwsCall,
    ItemRef,
    cancelled,
    error_answer,
    parse_call,
    throttled,
)

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

Answer = tuple[int, dict[str, str], bytes]
SERVICES = frozenset({"dynamodb", "sqs", "secretsmanager", "*"})
# Shorthands for a service's own error codes; anything else is sent as the code given.
ERROR_SHORTHANDS = frozenset({"throttle", "conflict", "internal"})
DYNAMODB_WRITE_UNITS = 1000.0  # what one partition key takes per second in DynamoDB
DYNAMODB_READ_UNITS = 3000.0
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade", "proxy-connection"}
)


@dataclass(frozen=True)
class AwsFault:
    """One registered fault. `error`: throttle | conflict | internal | an error code; None adds latency only."""

    service: str = "dynamodb"
    operation: str = "*"
    error: str | None = None
    key_prefix: str | None = None  # DynamoDB: only requests touching a partition key that starts with this
    table: str | None = None  # DynamoDB: only requests touching a table whose name contains this
    delay_s: float = 0.0
    times: int | None = None
    after: int = 0  # let this many matching calls through first

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"service must be one of {sorted(SERVICES)}, not {self.service!r}")
        if self.delay_s < 0 or self.after < 0 or (self.times is not None and self.times < 1):
            raise ValueError("delay_s and after must be >= 0, times >= 1 (or None: until cleared)")
        if self.error is None and self.delay_s == 0:
            raise ValueError("a fault needs an error, a delay, or both")

    def matches(self, call: AwsCall) -> bool:
        if self.service not in ("*", call.service) or self.operation not in ("*", call.operation):
            return False
        if self.table is not None and not any(self.table in item.table for item in call.items):
            return False
        return self.key_prefix is None or any(item.partition.startswith(self.key_prefix) for item in call.items)


@dataclass(frozen=True)
class Capacity:
    """DynamoDB's per-partition-key throughput, and how long a transaction holds its items. None: no limit."""

    write_units_per_s: float | None = None
    read_units_per_s: float | None = None
    burst_s: float = 1.0
    transaction_hold_s: float = 0.0

    @classmethod
    def scaled(cls, scale: float, **options: float) -> Capacity:
        """DynamoDB's limits times `scale` (0.02: 20 write and 60 read units a second per partition key)."""
        return cls(DYNAMODB_WRITE_UNITS * scale, DYNAMODB_READ_UNITS * scale, **options)


class _Bucket:
    def __init__(self, rate: float, burst_s: float, now: float) -> None:
        self.rate, self.size = rate, max(rate * burst_s, 1.0)
        self.tokens, self.at = self.size, now

    def refill(self, now: float) -> float:
        self.tokens = min(self.size, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return self.tokens


class AwsFaultInjector:
    """The proxy: start it in front of a moto server and point boto3's `AWS_ENDPOINT_URL` at `url`."""

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0, capacity: Capacity | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.host, self.port = host, port
        self._capacity = capacity or Capacity()
        self._lock = threading.Lock()  # faults, buckets, transaction marks, stats
        self._faults: list[list[Any]] = []  # [fault, times remaining, calls still let through]
        self._buckets: dict[tuple[str, str, bool], _Bucket] = {}
        self._marks: dict[str, int] = {}  # item -> the transaction holding it
        self._item_locks: dict[str, threading.Lock] = {}
        self._transactions = 0
        self._stats: Counter[str] = Counter()
        self._in_flight = 0  # calls being answered now, from every process
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        server = _Server((self.host, self.port), self)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=2)
            self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # ---- control

    def fail(
        self,
        service: str = "dynamodb",
        operation: str = "*",
        error: str | None = None,
        *,
        key_prefix: str | None = None,
        table: str | None = None,
        delay_s: float = 0.0,
        times: int | None = None,
        after: int = 0,
    ) -> None:
        """Make matching calls fail (or slow), the first `after` excepted. Faults are tried in registration order;
        the first match wins."""
        self.add(AwsFault(service, operation, error, key_prefix, table, delay_s, times, after))

    def add(self, fault: AwsFault) -> None:
        with self._lock:
            self._faults.append([fault, fault.times, fault.after])

    def faults(self) -> list[AwsFault]:
        with self._lock:
            return [slot[0] for slot in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def set_capacity(self, capacity: Capacity) -> None:
        with self._lock:
            self._capacity = capacity
            self._buckets.clear()

    @property
    def capacity(self) -> Capacity:
        return self._capacity

    def stats(self) -> dict[str, int]:
        """Counters: `calls:<Op>`, `throttled:<Op>`, `conflicts:<Op>`, `injected:<Op>`, `units:<partition key>`,
        `overlapped:<Op>` (calls that arrived while another was being answered: made at the same time)."""
        with self._lock:
            return dict(self._stats)

    def count(self, prefix: str) -> int:
        """The sum of the counters whose name starts with `prefix` (`throttled:`, `units:spend-units#`...)."""
        return sum(value for name, value in self.stats().items() if name.startswith(prefix))

    def reset(self) -> None:
        """No faults, no capacity limit, no counters."""
        with self._lock:
            self._faults.clear()
            self._buckets.clear()
            self._stats.clear()
            self._capacity = Capacity()

    # ---- one request

    def handle(self, call: AwsCall, forward: Callable[[], Answer]) -> Answer:
        """What the services would answer: an injected fault, throttling, a conflict, or moto's answer."""
        with self._lock:
            if self._in_flight:
                self._stats[f"overlapped:{call.operation}"] += 1
            self._in_flight += 1
        try:
            return self._answer(call, forward)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, call: AwsCall, forward: Callable[[], Answer]) -> Answer:
        self._tally(f"calls:{call.operation}")
        fault = self._take_fault(call)
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault is not None and fault.error is not None:
            self._tally(f"injected:{call.operation}")
            return self._injected(call, fault.error)
        if call.service != "dynamodb" or not call.items:
            return forward()
        refused = self._consume(call)
        if refused is not None:
            self._tally(f"throttled:{call.operation}")
            return refused
        if call.operation == "TransactWriteItems":
            return self._transaction(call, forward)
        if call.operation in SINGLE_WRITES | {"BatchWriteItem", "TransactGetItems"}:
            with self._lock:
                held = [i for i, item in enumerate(call.items) if item.key in self._marks]
            if held:
                self._tally(f"conflicts:{call.operation}")
                if call.operation == "TransactGetItems":
                    return cancelled(call.items, dict.fromkeys(held, "TransactionConflict"))
                return error_answer("dynamodb", "TransactionConflictException")
        with self._locked(call.items):
            return forward()

    def _injected(self, call: AwsCall, error: str) -> Answer:
        if error == "conflict":
            if call.transactional:
                return cancelled(call.items, dict.fromkeys(range(len(call.items)), "TransactionConflict"))
            return error_answer(call.service, "TransactionConflictException")
        if error == "throttle":
            if call.transactional:
                return cancelled(call.items, dict.fromkeys(range(len(call.items)), "ThrottlingError"))
            return throttled(call.service, call.items[0] if call.items else None, _arn(call))
        if error == "internal":
            return error_answer(call.service, INTERNAL.get(call.service, "InternalFailure"))
        return error_answer(call.service, error)

    def _take_fault(self, call: AwsCall) -> AwsFault | None:
        with self._lock:
            for slot in self._faults:
                fault: AwsFault = slot[0]
                if fault.matches(call):
                    if slot[2] > 0:
                        slot[2] -= 1
                        return None
                    if slot[1] is not None:
                        slot[1] -= 1
                        if slot[1] <= 0:
                            self._faults.remove(slot)
                    return fault
        return None

    def _consume(self, call: AwsCall) -> Answer | None:
        """Take the call's capacity units from each partition key's bucket, all or none; a refusal when short."""
        factor = 2.0 if call.transactional else 1.0
        now = time.monotonic()
        with self._lock:
            capacity = self._capacity
            wanted: dict[tuple[str, str, bool], float] = {}
            for item in call.items:
                bucket_key = (item.table, item.partition, item.write)
                wanted[bucket_key] = wanted.get(bucket_key, 0.0) + item.units * factor
            short: set[tuple[str, str, bool]] = set()
            for bucket_key, units in wanted.items():
                rate = capacity.write_units_per_s if bucket_key[2] else capacity.read_units_per_s
                if rate is None:
                    continue
                bucket = self._buckets.get(bucket_key) or _Bucket(rate, capacity.burst_s, now)
                self._buckets[bucket_key] = bucket
                if bucket.refill(now) < units:
                    short.add(bucket_key)
            if not short:
                for bucket_key, units in wanted.items():
                    if bucket_key in self._buckets:
                        self._buckets[bucket_key].tokens -= units
                    if bucket_key[2]:
                        self._stats[f"units:{bucket_key[1]}"] += round(units)
                return None
        if call.transactional:
            hot = [i for i, item in enumerate(call.items) if (item.table, item.partition, item.write) in short]
            return cancelled(call.items, dict.fromkeys(hot, "ThrottlingError"))
        first = next(item for item in call.items if (item.table, item.partition, item.write) in short)
        return throttled("dynamodb", first, _arn(call))

    def _transaction(self, call: AwsCall, forward: Callable[[], Answer]) -> Answer:
        """Hold the items (a second transaction on any is cancelled, a plain write refused), then write them."""
        with self._lock:
            held = [i for i, item in enumerate(call.items) if item.key in self._marks]
            if held:
                self._stats[f"conflicts:{call.operation}"] += 1
                return cancelled(call.items, dict.fromkeys(held, "TransactionConflict"))
            self._transactions += 1
            for item in call.items:
                self._marks[item.key] = self._transactions
            hold = self._capacity.transaction_hold_s
        try:
            if hold:
                time.sleep(hold)
            with self._locked(call.items):
                return forward()
        finally:
            with self._lock:
                for item in call.items:
                    self._marks.pop(item.key, None)

    @contextlib.contextmanager
    def _locked(self, items: list[ItemRef]) -> Iterator[None]:
        """Each item's lock, taken in one order (no deadlock between two requests on the same items)."""
        with self._lock:
            locks = [self._item_locks.setdefault(key, threading.Lock()) for key in sorted({i.key for i in items})]
        with contextlib.ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            yield

    def _tally(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    def key_names(self, table: str) -> list[str]:
        """A table's key attribute names, partition key first (asked of moto once per table)."""
        return _key_names(self.upstream, table)


@lru_cache(maxsize=256)
def _key_names(upstream: str, table: str) -> list[str]:
    import boto3

    client = boto3.client(
        "dynamodb", endpoint_url=upstream, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    try:
        schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
    except Exception:  # an unknown table: moto answers the request itself with ResourceNotFoundException
        return []
    return [k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"] != "HASH")]


def _arn(call: AwsCall) -> str:
    table = call.items[0].table if call.items else "unknown"
    return f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], injector: AwsFaultInjector) -> None:
        self.injector = injector
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # botocore keeps its connections alive
    wbufsize = 1 << 16  # an answer leaves in one write (headers and body apart wait on a delayed ACK: 40 ms)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # no line per request
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def _handle(self) -> None:
        body = self._body()
        if self.path.startswith("/__aws_faults/"):
            self._send(*_control(self.server.injector, self.command, self.path, body))
            return
        injector = self.server.injector
        call = parse_call(self.headers.get("X-Amz-Target"), body, injector.key_names)
        self._send(*injector.handle(call, lambda: self._forward(body)))

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self, body: bytes) -> Answer:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):  # a kept-alive connection moto closed meanwhile: open a new one once
            connection = _upstream_connection(self.server.injector.upstream)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                _connections.value = None
                if attempt == 2:
                    raise
                continue
            relayed = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            if self.command == "HEAD" and response.getheader("Content-Length"):
                relayed["Content-Length"] = response.getheader("Content-Length", "0")
            return response.status, relayed, data
        raise AssertionError("unreachable")

    def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


_connections = threading.local()


def _upstream_connection(upstream: str) -> http.client.HTTPConnection:
    connection: http.client.HTTPConnection | None = getattr(_connections, "value", None)
    if connection is None:
        parts = urlsplit(upstream)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
        _connections.value = connection
    return connection


def _control(injector: AwsFaultInjector, method: str, path: str, body: bytes) -> Answer:
    """`/__aws_faults/...`: faults, capacity, stats and reset over HTTP (for `make run` and other processes)."""
    try:
        data = json.loads(body or b"null")
        route = path.split("?")[0].removeprefix("/__aws_faults/")
        if route == "faults" and method == "POST":
            for item in data if isinstance(data, list) else [data]:
                injector.add(AwsFault(**item))
        elif route == "faults" and method == "DELETE":
            injector.clear_faults()
        elif route == "capacity" and method == "POST":
            injector.set_capacity(Capacity(**(data or {})))
        elif route == "stats" and method == "DELETE":
            with injector._lock:
                injector._stats.clear()
        elif route == "reset" and method == "POST":
            injector.reset()
        elif not (method == "GET" and route in ("faults", "capacity", "stats", "health")):
            return _json(404, {"error": f"unknown control route {method} {path}"})
    except (TypeError, ValueError) as exc:
        return _json(400, {"error": str(exc)})
    state = {
        "faults": [asdict(f) for f in injector.faults()],
        "capacity": asdict(injector.capacity),
        "stats": injector.stats(),
    }
    return _json(200, state)


def _json(status: int, payload: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def start_faulty_aws(capacity: Capacity | None = None) -> tuple[ThreadedMotoServer, AwsFaultInjector]:
    """A moto server and the injector in front of it (both on free loopback ports); stop both when done.

    Point boto3 at `injector.url` (`AWS_ENDPOINT_URL`); with no fault and no capacity set, it is moto, serialised.
    """
    from dev.aws_stack import start_moto_server

    moto_server, moto_url = start_moto_server()
    return moto_server, AwsFaultInjector(moto_url, capacity=capacity).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.aws_faults", description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", help="the moto server's URL")
    parser.add_argument("--moto", action="store_true", help="start a moto server to stand in front of")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scale", type=float, default=None, help="capacity: DynamoDB's limits times this")
    args = parser.parse_args(argv)
    if not args.upstream and not args.moto:
        parser.error("give --upstream URL or --moto")
    moto_server = None
    upstream = args.upstream
    if args.moto:
        from dev.aws_stack import start_moto_server

        moto_server, upstream = start_moto_server()
    capacity = Capacity.scaled(args.scale) if args.scale else None
    injector = AwsFaultInjector(upstream, port=args.port, capacity=capacity).start()
    print(f"export AWS_ENDPOINT_URL={injector.url}   # in front of {upstream}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        injector.stop()
        if moto_server is not None:
            moto_server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
