"""`make invoke`: call one function's real handler with an event file, like `sam local invoke`, without Docker.

AWS is moto in-process (provisioned from template.yaml); providers are the emulator unless keys are
in the environment. Prints the handler's response (an HTTP body is parsed as JSON when it is JSON).

    python -m dev.invoke route events/route.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path

from moto import mock_aws

from dev.aws_stack import provision
from dev.emulator import ProviderEmulator
from dev.lambda_runtime import FUNCTIONS, LocalLambdaContext, invoke
from dev.local_env import AWS_DUMMY, local_setup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.invoke", description=__doc__)
    parser.add_argument("function", choices=FUNCTIONS)
    parser.add_argument("event", type=Path, help="an event file, e.g. events/route.json")
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text())
    os.environ.update(AWS_DUMMY)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws(), ProviderEmulator() as emulator:
        resources = provision()
        setup = local_setup(os.environ, emulator.url, resources)
        provision(secret_values=setup.secret_values)
        os.environ.update(setup.environment)
        response = invoke(args.function, event, LocalLambdaContext(function_name=args.function))
    body = response.get("body")
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            response["body"] = json.loads(body)
    print(json.dumps(response, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
