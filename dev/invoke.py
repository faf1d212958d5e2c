"""`make invoke`: call one function's real handler with an event file, like `sam local invoke`, without Docker.

When `make run` is up (its local API answers `/__local/stack` on http://127.0.0.1:$PORT, 3000 by default), the
handler runs against that stack's moto and provider emulator, so it sees the jobs, interactions and probes the
running gateway wrote, and what it writes shows there. Otherwise AWS is moto in-process (provisioned from
template.yaml, empty) and providers are the emulator unless keys are in the environment. Prints the handler's
response (an HTTP body is parsed as JSON when it is JSON).

    python -m dev.invoke route events/route.json
    python -m dev.invoke training_consumer events/dynamodb_new_interaction.json --put-images
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from dev.aws_stack import provision
from dev.emulator import ProviderEmulator
from dev.lambda_runtime import FUNCTIONS, LocalLambdaContext, invoke
from dev.local_env import AWS_DUMMY, local_setup

# The events that read state the gateway writes, and how to create it first (printed with the event).
NEEDS_STATE = {
    "route_job_get.json": (
        "reads the job job-0001. With `make run` up, create it first: `make invoke FUNCTION=route "
        "EVENT=events/sqs_route_jobs.json` answers the queued jobs job-0001 and job-0002 into the stack's jobs table."
    ),
    "dynamodb_new_interaction.json": (
        "is the stream's record of an interaction the table holds. Add ARGS=--put-images to write each record's "
        "NewImage to the table first, as the insert that made the record did; with `make run` up, the detector then "
        "compares it with the interactions the running gateway recorded (ask /v1/route the same prompt first)."
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.invoke", description=__doc__)
    parser.add_argument("function", choices=FUNCTIONS)
    parser.add_argument("event", type=Path, help="an event file, e.g. events/route.json")
    parser.add_argument(
        "--stack", default=f"http://127.0.0.1:{os.environ.get('PORT', '3000')}", help="the local API of `make run`"
    )
    parser.add_argument("--isolated", action="store_true", help="ignore a running stack: moto and emulator of its own")
    parser.add_argument("--put-images", action="store_true", help="write a DynamoDB stream event's NewImages first")
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text())
    note = NEEDS_STATE.get(args.event.name)
    if note:
        print(f"note: {args.event.name} {note}", file=sys.stderr)
    os.environ.update(AWS_DUMMY)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    stack = None if args.isolated else running_stack(args.stack)
    if stack is not None:
        print(f"using the running local stack at {args.stack} (moto {stack['aws_endpoint_url']})", file=sys.stderr)
        os.environ.update({**stack["environment"], "AWS_ENDPOINT_URL": stack["aws_endpoint_url"]})
        response = _invoke(args.function, event, stack["resources"] if args.put_images else None)
    else:
        with mock_aws(), ProviderEmulator() as emulator:
            resources = provision()
            setup = local_setup(os.environ, emulator.url, resources)
            provision(secret_values=setup.secret_values)
            os.environ.update(setup.environment)
            response = _invoke(args.function, event, resources.names if args.put_images else None)
    body = response.get("body")
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            response["body"] = json.loads(body)
    print(json.dumps(response, indent=2))
    return 0


def running_stack(url: str) -> dict[str, Any] | None:
    """What a running `make run` says of itself at `url`, or None when none answers there."""
    try:
        with urllib.request.urlopen(f"{url}/__local/stack", timeout=1) as answer:
            stack = json.loads(answer.read())
    except (OSError, ValueError):
        return None
    return stack if isinstance(stack, dict) and "aws_endpoint_url" in stack else None


def _invoke(function: str, event: dict[str, Any], images_to: Mapping[str, str] | None) -> dict[str, Any]:
    if images_to is not None:
        put_new_images(event, images_to)
    return invoke(function, event, LocalLambdaContext(function_name=function))


def put_new_images(event: dict[str, Any], names: Mapping[str, str]) -> int:
    """Write each DynamoDB stream record's NewImage to its table: the template's table whose logical id ends the
    table name in the record's `eventSourceARN` (`.../table/<stack>-InteractionsTable/stream/...`)."""
    dynamodb = boto3.client("dynamodb")
    written = 0
    for record in event.get("Records", []):
        image = (record.get("dynamodb") or {}).get("NewImage")
        table = str(record.get("eventSourceARN", "")).split(":table/")[-1].split("/")[0]
        logical_id = next((lid for lid in names if table.endswith(lid)), None)
        if image and logical_id is not None:
            dynamodb.put_item(TableName=names[logical_id], Item=image)
            written += 1
    print(f"wrote {written} NewImage(s) to their tables", file=sys.stderr)
    return written


if __name__ == "__main__":
    raise SystemExit(main())
