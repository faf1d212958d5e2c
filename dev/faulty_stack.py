"""The template's AWS resources in a moto server behind the AWS fault injector, for tests and benchmarks.

One stack serves many tests: `clear()` empties every table and queue and lifts every fault between them (much
cheaper than provisioning again). `environment()` is what a Lambda instance in another process needs to share
it: the endpoint (the injector), the resources, and every provider pointed at the emulator. Dev-only.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from dev.aws_faults import AwsFaultInjector, start_faulty_aws
from dev.aws_stack import StackResources, provision
from dev.local_env import AWS_DUMMY, LocalSetup, local_setup

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer


@dataclass
class FaultyStack:
    moto_server: ThreadedMotoServer
    injector: AwsFaultInjector
    resources: StackResources
    emulator_url: str
    secret_values: dict[str, str]
    gateway_environment: dict[str, str]

    def environment(self) -> dict[str, str]:
        """The environment of a Lambda instance on this stack: AWS through the injector, providers emulated."""
        return {**AWS_DUMMY, "AWS_ENDPOINT_URL": self.injector.url, **self.gateway_environment}

    def clear(self) -> None:
        """No fault, no capacity limit, no counter; every table and queue empty; the secret as provisioned.

        A moto server started in this process shares its backends with in-process `mock_aws`, which resets them all
        when it starts and stops: the stack is provisioned again when its tables are gone.
        """
        self.injector.reset()
        client = self._client("dynamodb")
        if self.resources.state_table not in client.list_tables()["TableNames"]:
            _provision(self.injector.upstream, self.emulator_url)
        for logical_id, name in self.resources.names.items():
            if "Table" not in logical_id:
                continue
            keys = [k["AttributeName"] for k in client.describe_table(TableName=name)["Table"]["KeySchema"]]
            for page in client.get_paginator("scan").paginate(TableName=name, ProjectionExpression=", ".join(keys)):
                for item in page["Items"]:
                    client.delete_item(TableName=name, Key=item)
        sqs = self._client("sqs")
        for logical_id, url in self.resources.names.items():
            if logical_id.endswith("Queue"):  # drained (moto, like SQS, allows one PurgeQueue a minute)
                while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
                    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                    sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        secrets = self._client("secretsmanager")
        secrets.put_secret_value(SecretId=self.resources.secret_name, SecretString=json.dumps(self.secret_values))

    def stop(self) -> None:
        self.injector.stop()
        self.moto_server.stop()

    def _client(self, service: str) -> Any:
        """A client straight to moto (not through the injector: clearing must not meet a fault)."""
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.injector.upstream,
            region_name=AWS_DUMMY["AWS_DEFAULT_REGION"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@contextlib.contextmanager
def faulty_stack(emulator_url: str) -> Iterator[FaultyStack]:
    """Start moto and the injector, provision template.yaml through it, and point the providers at the emulator."""
    moto_server, injector = start_faulty_aws()
    try:
        resources, setup = _provision(injector.upstream, emulator_url)
        yield FaultyStack(moto_server, injector, resources, emulator_url, setup.secret_values, setup.environment)
    finally:
        injector.stop()
        moto_server.stop()


def _provision(upstream: str, emulator_url: str) -> tuple[StackResources, LocalSetup]:
    """template.yaml's resources in the moto server at `upstream`, the secret holding the emulator's keys."""
    saved = {name: os.environ.get(name) for name in (*AWS_DUMMY, "AWS_ENDPOINT_URL")}
    try:
        os.environ.update({**AWS_DUMMY, "AWS_ENDPOINT_URL": upstream})
        resources = provision()
        setup = local_setup({}, emulator_url, resources)
        provision(secret_values=setup.secret_values)
        return resources, setup
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
