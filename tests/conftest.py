"""Fixtures for every test: events, the Lambda context, moto, the provider emulator, the gateway.

Tests call the real handlers with real events (the files in `events/`), against moto (provisioned from
template.yaml) and the provider emulator, which the real SDKs talk to over loopback.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dev.aws_stack import StackResources, provision
from dev.emulator import ProviderEmulator
from dev.lambda_runtime import LocalLambdaContext, api_event, invoke, use_layer
from dev.local_env import AWS_DUMMY, EMULATOR_KEY, local_setup
from dev.stream_poller import StreamCounts, StreamPoller

use_layer()

from gateway.config.settings import ENVIRONMENT_NAMES  # noqa: E402 - the layer goes on sys.path first
from gateway.providers.registry import PROVIDERS  # noqa: E402

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
# Everything the gateway reads from the environment (its settings, and the providers' keys that local mode
# reads), cleared so a developer's shell cannot leak in.
GATEWAY_VARIABLES = (
    *sorted(ENVIRONMENT_NAMES),
    *(name for info in PROVIDERS.values() for name in info.env_keys),
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
)


def load_event(name: str, **body_overrides: Any) -> dict[str, Any]:
    """An event from `events/`; for an API event, `body_overrides` replace fields of its JSON body."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    if body_overrides:
        body = json.loads(event["body"])
        body.update(body_overrides)
        event["body"] = json.dumps(body)
    return event


@dataclass
class Answer:
    """A handler's answer to an API Gateway event, with the JSON body parsed."""

    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any]


@dataclass
class Gateway:
    """The gateway under test: call a function's real handler with an event."""

    emulator: ProviderEmulator
    resources: StackResources
    _detector: StreamPoller | None = None

    def detect_repetitions(self) -> StreamCounts:
        """Hand the interactions written so far to the repetition detector, as the table's stream would."""
        if self._detector is None:
            self._detector = StreamPoller(
                self.resources.names["InteractionsTable"],
                "training_consumer",
                on_failure_queue_url=self.resources.names["InteractionsFailureQueue"],
            )
        return self._detector.drain()

    def invoke(self, function: str, event: dict[str, Any], context: LocalLambdaContext | None = None) -> Any:
        return invoke(function, copy.deepcopy(event), context or LocalLambdaContext(function_name=function))

    def call(self, function: str, event: dict[str, Any]) -> Answer:
        raw = self.invoke(function, event)
        headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        return Answer(raw["statusCode"], headers, json.loads(raw["body"]), raw)

    def post(self, function: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        return self.call(function, api_event("POST", path, body, headers=headers))


# Fixtures that start a server (the provider emulator, moto) or stand AWS in for a test: a test that uses one is an
# integration test (`make integration`); the others are unit tests (`make unit`).
INTEGRATION_FIXTURES = frozenset(
    {"aws", "gateway", "emulator", "atomic_dynamodb", "mocked_aws", "faulty_aws", "faulty_gateway"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator() as server:
        yield server


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="test-function")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in GATEWAY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_DUMMY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AiGatewayTest")
    _clear_caches()
    yield monkeypatch
    _clear_caches()


@pytest.fixture
def aws(clean_env: pytest.MonkeyPatch) -> Iterator[StackResources]:
    """moto in-process with the template's tables, queues and secret."""
    with mock_aws():
        yield provision()


@pytest.fixture
def gateway(aws: StackResources, emulator: ProviderEmulator, clean_env: pytest.MonkeyPatch) -> Iterator[Gateway]:
    """The gateway in local mode: keys in the (moto) secret, every provider pointed at the emulator."""
    emulator.reset()
    setup = local_setup({}, emulator.url, aws)
    boto3.client("secretsmanager").put_secret_value(
        SecretId=aws.secret_name, SecretString=json.dumps(setup.secret_values)
    )
    for name, value in setup.environment.items():
        clean_env.setenv(name, value)
    # One attempt per provider unless a test asks for retries (tests/resilience does): the feature
    # tests then see each fault exactly once, without backoff delays.
    clean_env.setenv("RETRY_MAX_ATTEMPTS", "1")
    yield Gateway(emulator, aws)
    emulator.reset()


def _clear_caches() -> None:
    """Forget what the layer caches per process: each test has its own environment and moto backend."""
    from aws_lambda_powertools.utilities import parameters

    from gateway.config.settings import get_settings
    from gateway.resilience import guards
    from gateway.routing import slm_health
    from gateway.stores import api_keys, aws, idempotency

    get_settings.cache_clear()
    guards.forget()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    aws.clear_clients()
    slm_health.forget()
    idempotency.persistence_layer.cache_clear()
    api_keys.api_keys.cache_clear()


__all__ = ["EMULATOR_KEY", "Answer", "Gateway", "load_event"]
