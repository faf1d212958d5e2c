"""`make run`: the whole gateway on http://127.0.0.1:3000 with no keys and no Docker.

Starts a moto server (Secrets Manager, DynamoDB, SQS, S3, provisioned from template.yaml), the provider
emulator, the local API that calls the real handlers, a poller per queue that feeds its consumer
function (route jobs, training examples) and one for the interactions table's stream (the repetition
detector), the WebSocket API on ws://127.0.0.1:3001 (`dev.ws_server`; `WS_PORT` overrides, the HTTP port + 1 when
`PORT` does) and the playground page at /playground, and plays the template's schedules (the status probe: once at
start-up, then at its rate, and on demand at `/__local/schedules/<name>`); prints curl examples; stops everything
on Ctrl-C or SIGTERM. API keys are checked as API Gateway checks them: the stack's two keys (their values from
`LOCAL_API_KEYS`, two comma-separated values, when set) are printed; a request without a key, or with the key
`local` (what the README's OpenAI examples send), is served as the first one's unless `LOCAL_REQUIRE_API_KEY=true`;
the admin routes are open to loopback callers. Providers whose keys are
in the environment are called for real. `make invoke` finds the
running stack at `/__local/stack` and uses its moto and emulator.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Mapping
from types import FrameType
from urllib.parse import urlsplit

from dev.aws_faults import AwsFaultInjector
from dev.aws_stack import StackResources, provision, start_moto_server
from dev.chat_server import ChatServer
from dev.emulator import ProviderEmulator
from dev.local_api import KeyCheck, LocalApi
from dev.local_env import AWS_DUMMY, local_setup
from dev.playground import playground_pages
from dev.schedules import Scheduler, schedules_from_template
from dev.sqs_poller import SqsPoller
from dev.stream_poller import StreamPoller
from dev.ws_server import LocalWebSocketApi

EXAMPLES = """\
curl -s {url}/health
curl -s {url}/v1/status
curl -s -X POST {url}/v1/route -H 'Content-Type: application/json' \\
  -d '{{"user_id": "demo", "prompt": "Explain Python list comprehensions in one sentence.", "language": "en"}}'
curl -s -X POST {url}/v1/jobs -H 'Content-Type: application/json' \\
  -d '{{"user_id": "demo", "prompt": "Summarise the benefits of serverless in one sentence."}}'
curl -s {url}/v1/jobs/<job_id from the answer above>
curl -s -X POST {url}/v1/generate-points -H 'Content-Type: application/json' \\
  -d '{{"prompt": "12 points on a circle", "context": {{"count": 12, "radius": 100, "center": [50, -20]}}}}'
curl -s -X POST {url}/v1/handle-error -H 'Content-Type: application/json' \\
  -d '{{"error": {{"message": "KeyError: user_id", "type": "KeyError", "language": "python"}}}}'
curl -s -X POST {url}/__local/schedules/{schedule}   # run the scheduled probe now
# the OpenAI-compatible API (any OpenAI client: base URL {url}/v1, a local key), streamed with -N:
curl -sN {url}/v1/chat/completions -H 'Content-Type: application/json' -H 'Authorization: Bearer {api_key}' \\
  -d '{{"model": "auto", "stream": true, "messages": [{{"role": "user", "content": "Say hello in five words."}}]}}'
{python} -c 'from openai import OpenAI; client = OpenAI(base_url="{url}/v1", api_key="local")
answer = client.chat.completions.create(model="auto", messages=[{{"role": "user", "content": "Hi"}}])
print(answer.choices[0].message.content)'
# with an API key (x-api-key, or Authorization: Bearer): its own day, and a rating of an answer it got
curl -s {url}/v1/usage -H 'x-api-key: {api_key}'
curl -s -X POST {url}/v1/feedback -H 'x-api-key: {api_key}' -H 'Content-Type: application/json' \\
  -d '{{"request_id": "<request_id of an answer above>", "score": 1}}'
# the admin routes (open on loopback here; IAM-signed in AWS, see the README):
curl -s {url}/v1/admin/config
curl -s -X PATCH {url}/v1/admin/config -H 'If-Match: *' -H 'Content-Type: application/json' \\
  -d '{{"AI_PRIMARY_PROVIDER": "vllm"}}'
curl -s -X PUT {url}/v1/admin/keys/{second_key_id}/budget -H 'Content-Type: application/json' \\
  -d '{{"daily_usd": 0.5, "daily_requests": 100}}'
curl -s -X PUT {url}/v1/admin/providers/gemini/key -H 'Content-Type: application/json' -d '{{"key": "..."}}'
# the WebSocket API (type a frame, e.g. {{"action": "chat", "id": "1", "prompt": "Hello"}}):
{python} -m websockets '{ws_url}/?api_key={api_key}'
# make the emulator fail, then watch the fallback in "attempts" (no-cache: not the answer cached above):
curl -s -X POST {emulator}/__emulator/faults -d '{{"provider": "slm", "kind": "status", "status": 503}}'
curl -s -X POST {url}/v1/route -H 'Content-Type: application/json' -H 'Cache-Control: no-cache' \\
  -d '{{"user_id": "demo", "prompt": "Explain Python list comprehensions in one sentence.", "language": "en"}}'
curl -s -X DELETE {emulator}/__emulator/faults"""


LOCAL_KEY_IDS = ("GatewayApiApiKey", "InternalApiKey")  # the stack's two keys: the standard and internal plans'
# Stands for the first key unless LOCAL_REQUIRE_API_KEY=true: OpenAI's SDKs always send a key, so that a client made
# with `api_key="local"` works with no other setting (a key's value is at least 20 characters; any other unknown
# value is refused, as API Gateway refuses it).
LOCAL_KEY_ALIAS = "local"


def local_api_key_values(environ: Mapping[str, str]) -> dict[str, str]:
    """The local keys' values from `LOCAL_API_KEYS` (two, comma separated); empty: the stack's defaults."""
    given = [value.strip() for value in environ.get("LOCAL_API_KEYS", "").split(",") if value.strip()]
    if given and len(given) != len(LOCAL_KEY_IDS):
        raise SystemExit(f"LOCAL_API_KEYS must hold {len(LOCAL_KEY_IDS)} comma-separated values, not {len(given)}")
    short = [value for value in given if not 20 <= len(value) <= 128]
    if short:  # API Gateway's rule for a key's value
        raise SystemExit(f"each value of LOCAL_API_KEYS must be 20 to 128 characters ({len(short)} is not)")
    return dict(zip(LOCAL_KEY_IDS, given, strict=False))


def key_check(resources: StackResources, *, require: bool) -> KeyCheck:
    """The stack's keys as API Gateway checks them (enabled, in a usage plan of the API); a request without one is
    the first key's unless `require`."""
    from gateway.stores.api_keys import ApiKeys  # the layer is on sys.path (dev.local_api put it there)

    check = ApiKeys(resources.names["GatewayApi"], max_age_s=5)
    if require:
        return KeyCheck(check.key_id, None)
    first = resources.names[LOCAL_KEY_IDS[0]]
    return KeyCheck(lambda value: first if value == LOCAL_KEY_ALIAS else check.key_id(value), first)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.run_local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--ws-port", type=int, default=None, help="the WebSocket API's (default: WS_PORT, else port+1)")
    args = parser.parse_args(argv)
    ws_port = args.ws_port if args.ws_port is not None else int(os.environ.get("WS_PORT") or args.port + 1)

    for key, value in AWS_DUMMY.items():
        os.environ.setdefault(key, value)
    moto_server, moto_url = start_moto_server()
    injector = AwsFaultInjector(moto_url).start()  # transparent until told to fail (docs/aws-faults.md)
    os.environ["AWS_ENDPOINT_URL"] = injector.url
    emulator = ProviderEmulator(host="127.0.0.1").start()
    api: LocalApi | None = None
    ws: LocalWebSocketApi | None = None
    chat: ChatServer | None = None
    pollers: list[SqsPoller | StreamPoller | Scheduler] = []
    try:
        resources = provision(api_key_values=local_api_key_values(os.environ))
        setup = local_setup(os.environ, emulator.url, resources)
        provision(secret_values=setup.secret_values)
        os.environ.update(setup.environment)
        ws = LocalWebSocketApi(args.host, ws_port)
        os.environ["WS_MANAGEMENT_URL"] = ws.management_url  # the ws handler's frames go back through it
        ws.start()
        api_key = resources.api_keys["GatewayApiApiKey"]  # the standard plan's key (local-GatewayApiApiKey)
        chat = ChatServer(args.host).start()  # the chat function under uvicorn, as the web adapter runs it in AWS
        keys = key_check(resources, require=os.environ.get("LOCAL_REQUIRE_API_KEY", "").lower() == "true")
        api = LocalApi(args.host, args.port, keys)
        api.upstreams["chat"] = chat.url  # its routes, on the same port as every other, streamed through
        api.pages.update(playground_pages(ws.url, api_key))
        api.start()
        consumers = (("RouteJobsQueue", "route"), ("TrainingQueue", "training_consumer"))
        for queue, function in consumers:  # the template's SQS event sources
            pollers.append(SqsPoller(resources.names[queue], function, retry_after_s=2).start())
        detector = StreamPoller(  # the template's DynamoDB event source
            resources.names["InteractionsTable"],
            "training_consumer",
            on_failure_queue_url=resources.names["InteractionsFailureQueue"],
        )
        pollers.append(detector.start())
        scheduler = Scheduler(schedules_from_template(), api.invoke)  # the template's Schedule events
        pollers.append(scheduler)
        for run in scheduler.run_due():  # each once at start-up, then at its rate on the scheduler's thread
            print(f"schedule {run.schedule} ran at start-up: {'failed: ' + run.error if run.error else 'ok'}")
        scheduler.start()
        api.add_control("schedules", scheduler.control)
        stack = {
            "aws_endpoint_url": moto_url,
            "emulator_url": emulator.url,
            "environment": setup.environment,
            "resources": dict(resources.names),
        }
        api.add_control("stack", lambda method, rest: (200, stack))  # for `make invoke` (dev/invoke.py)
        emulated = sorted({"gemini", "huggingface", "slm"} - set(setup.real_providers))
        print(f"AI gateway running on {api.url}  (AWS: moto at {moto_url}; provider emulator at {emulator.url})")
        print(f"AWS fault injector (throttling, conflicts, capacity) at {injector.url}/__aws_faults/")
        print(f"real providers: {', '.join(setup.real_providers) or 'none'}; emulated: {', '.join(emulated)}")
        print(f"WebSocket API on {ws.url} (API key: {api_key}); playground at {api.url}/playground")
        print(f"OpenAI-compatible API at {api.url}/v1 (streamed: the chat function under uvicorn at {chat.url})")
        first, second = (resources.api_keys[lid] for lid in LOCAL_KEY_IDS)
        first_id, second_id = (resources.names[lid] for lid in LOCAL_KEY_IDS)
        unkeyed = (
            "refused (LOCAL_REQUIRE_API_KEY=true)"
            if keys.default_key_id is None
            else f"served as the first key's (so is the key `{LOCAL_KEY_ALIAS}`)"
        )
        print(f"API keys (x-api-key or a bearer token): {first} (id {first_id}), {second} (id {second_id}); "
              f"a request without one is {unkeyed}, an unknown one is 403")  # fmt: skip
        print("admin routes (/v1/admin/...) are open to loopback callers here, unsigned; in AWS they are IAM-signed")
        api_port = urlsplit(api.url).port
        port = "" if api_port == 3000 else f" PORT={api_port}"
        print(f"make invoke{port} FUNCTION=... EVENT=... runs a handler against this stack's moto and emulator")
        names = list(scheduler.schedules) or ["<name>"]
        examples = EXAMPLES.format(
            url=api.url,
            emulator=emulator.url,
            schedule=names[0],
            ws_url=ws.url,
            api_key=api_key,
            second_key_id=resources.names[LOCAL_KEY_IDS[1]],
            python=".venv/bin/python",
        )
        print("Try:\n" + examples, flush=True)
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        stop.wait()
        print("stopping", flush=True)
    finally:
        for poller in pollers:
            poller.stop()
        if ws is not None:
            ws.stop()
        if api is not None:
            api.stop()
        if chat is not None:
            chat.stop()
        emulator.stop()
        injector.stop()
        moto_server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
