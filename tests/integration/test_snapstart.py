"""SnapStart's runtime hooks (gateway/http/snapstart.py), called as Lambda calls them: what goes into the snapshot,
and what an instance restored from it must not share with the others restored from the same snapshot."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import snapshot_restore_py

from dev.lambda_runtime import load_handler
from gateway.config.keys import load_provider_keys
from gateway.config.runtime import in_force
from gateway.config.settings import get_settings
from gateway.core import runtime
from gateway.http.snapstart import after_restore, before_snapshot
from gateway.observability import trace_subsegment
from gateway.providers import registry
from gateway.resilience.guards import resilience_for
from gateway.stores.api_keys import api_keys
from gateway.stores.aws import dynamodb_table, secrets_provider
from tests.conftest import Gateway
from tests.observability.capture import XRayDaemon

REPO_ROOT = Path(__file__).resolve().parents[2]
TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793"


@pytest.mark.parametrize("function", ["route", "status", "ws", "training_consumer"])
def test_every_functions_handler_registers_both_hooks_with_the_runtime(function: str, clean_env: object) -> None:
    # When a function's handler module is loaded, as Lambda's init loads it
    load_handler(function)
    # Then the runtime will call our hooks before the snapshot and after each restore
    assert (before_snapshot, (), {}) in snapshot_restore_py.get_before_snapshot()
    assert (after_restore, (), {}) in snapshot_restore_py.get_after_restore()


def test_before_snapshot_loads_the_sdks_and_aws_clients_without_calling_anything() -> None:
    # Given a fresh interpreter whose AWS endpoint answers nothing (a call would fail)
    code = (
        "import json, sys; from gateway.http.snapstart import before_snapshot; before_snapshot();"
        "print(json.dumps({m: m in sys.modules for m in ('google.genai', 'google.genai.types', 'huggingface_hub',"
        " 'httpx', 'boto3', 'aws_lambda_powertools.utilities.parameters')}))"
    )
    env = {
        **os.environ, "PYTHONPATH": str(REPO_ROOT / "layers" / "providers"), "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    }  # fmt: skip
    # When the before-snapshot hook runs
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    # Then every SDK a first request would import is in the snapshot already
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == dict.fromkeys(
        ("google.genai", "google.genai.types", "huggingface_hub", "httpx", "boto3",
         "aws_lambda_powertools.utilities.parameters"), True,
    )  # fmt: skip


def test_after_restore_gives_each_instance_its_own_random_sequence() -> None:
    # Given two instances restored from one snapshot: the same generator state in both
    random.seed(1234)
    first = [random.random() for _ in range(3)]
    draws = []
    for _ in range(2):
        random.seed(1234)  # the state the snapshot holds
        # When the after-restore hook runs
        after_restore()
        draws.append([random.random() for _ in range(3)])
    # Then their retry jitter and ids no longer repeat each other's, nor the snapshot's
    assert draws[0] != draws[1]
    assert first not in draws


def test_after_restore_makes_new_aws_clients_that_resolve_credentials_again(
    aws: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given clients made before the snapshot, with the credentials of that moment resolved
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "SNAPSHOTKEY")
    before = dynamodb_table("any-table")
    assert _session_key() == "SNAPSHOTKEY"
    # When the restored environment has other credentials and the hook runs
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "RESTOREDKEY")
    after_restore()
    # Then the clients (and their pooled connections) are new, and they sign with the new credentials
    after = dynamodb_table("any-table")
    assert after is not before
    assert _session_key() == "RESTOREDKEY"
    signer: Any = after.meta.client._request_signer  # type: ignore[attr-defined]
    assert signer._credentials.access_key == "RESTOREDKEY"


def _session_key() -> str:
    assert boto3.DEFAULT_SESSION is not None
    credentials = boto3.DEFAULT_SESSION.get_credentials()
    assert credentials is not None
    return str(credentials.access_key)


def test_after_restore_reads_the_provider_secret_again(gateway: Gateway) -> None:
    # Given the provider keys read (and cached) before the snapshot
    settings = get_settings()
    assert settings.secret_name
    cached = load_provider_keys(settings).get("gemini")
    provider = secrets_provider()
    # And the secret rotated since
    manager = boto3.client("secretsmanager")
    secret = json.loads(manager.get_secret_value(SecretId=settings.secret_name)["SecretString"])
    manager.put_secret_value(
        SecretId=settings.secret_name, SecretString=json.dumps({**secret, "GEMINI_API_KEY": "new"})
    )
    assert (
        load_provider_keys(settings).get("gemini") == cached != "new"
    )  # still the cached value, within SECRET_MAX_AGE_SECONDS
    # When the after-restore hook runs
    after_restore()
    # Then the next read goes to Secrets Manager: the snapshot's value is not used
    assert secrets_provider() is not provider
    assert load_provider_keys(get_settings()).get("gemini") == "new"


def test_after_restore_drops_provider_clients_and_shared_state_caches(gateway: Gateway) -> None:
    # Given a provider client (with its connection pool), the breaker board and spend guard made before the snapshot
    settings = get_settings()
    spec = registry.spec("gemini", settings, load_provider_keys(settings))

    async def client() -> object:
        return registry.get_provider(spec)

    provider, guards = runtime.run(client()), resilience_for(settings)
    keys_view = api_keys("rest-api", 60)
    in_force.learn(settings.state_table or "", in_force.version(settings.state_table or "", 30), 30)
    # When the after-restore hook runs
    after_restore()
    # Then each is made again on first use: no connection, circuit state, lease, configuration version or key is
    # shared between instances
    assert runtime.run(client()) is not provider
    assert resilience_for(settings) is not guards
    assert api_keys("rest-api", 60) is not keys_view
    assert in_force._known == {}


def test_after_restore_sends_traces_to_the_restored_environments_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot_daemon, restored_daemon = XRayDaemon(), XRayDaemon()
    try:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1")
        monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
        # Given a subsegment sent before the snapshot (its socket opened then)
        monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", snapshot_daemon.address)
        _send_subsegment("before")
        assert [d["name"] for d in snapshot_daemon.documents()] == ["before"]
        # When the instance is restored where the daemon listens elsewhere, and the hook runs
        monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", restored_daemon.address)
        after_restore()
        _send_subsegment("after")
        # Then the subsegment reaches the restored environment's daemon
        assert [d["name"] for d in restored_daemon.documents()] == ["after"]
        assert snapshot_daemon.documents() == []
    finally:
        snapshot_daemon.close()
        restored_daemon.close()


def _send_subsegment(name: str) -> None:
    trace_subsegment(name, 1.0, fault=False, error=False, throttle=False, annotations={}, metadata={})
