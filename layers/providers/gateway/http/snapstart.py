"""Lambda SnapStart's runtime hooks: what goes into the snapshot, and what a restored instance must not share.

With SnapStart (template.yaml: `SnapStart` parameter), Lambda runs a function's init once, when a version is
published, snapshots the process, and starts every new instance of that version from the snapshot. So:

- `before_snapshot` loads what a first request would otherwise load lazily: boto3's DynamoDB resource and the Secrets
  Manager client (their service models), Powertools' parameters, and the provider SDKs (google-genai is most of a
  cold start). No call is made: the snapshot must hold no answer, lease or secret.
- `after_restore` undoes what every instance restored from one snapshot would otherwise share: the random generator
  behind retry jitter and ids (re-seeded from the OS), the AWS SDK's clients with their pooled connections and
  resolved credentials (SnapStart serves credentials with an expiry, through the container credentials provider),
  the cached provider secret, the provider SDK clients with their connection pools, the breaker states and spend
  leases a process holds, the sLM's probe verdict, and the X-Ray socket (the daemon's address is read again from
  the environment on each send).

Registered through `snapshot-restore-py`, which Lambda's Python runtimes include (the dev requirements pin it for
the tests); where it is not installed, nothing is registered. A function run by the Lambda Web Adapter (its own
process, not the Python runtime's) cannot register them: the adapter calls an HTTP path of the app instead
(`AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH`, adapter v1.1.0, layer version 30 and later), which calls `after_restore`.
"""

from __future__ import annotations

import random

_registered = False


def register() -> bool:
    """Register the hooks with the runtime (once); False where `snapshot_restore_py` is not installed."""
    global _registered
    if _registered:
        return True
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    _registered = True
    return True


def before_snapshot() -> None:
    """Load, into the snapshot, what the first request would load: AWS clients (no call) and the provider SDKs."""
    from gateway.providers.registry import load_sdks
    from gateway.stores.aws import load_clients

    load_clients()
    load_sdks()


def after_restore() -> None:
    """Make this instance its own: new random seed, AWS clients, credentials, secret, provider clients, shared-state
    caches (circuits, leases, the runtime configuration's version, the API keys' view) and X-Ray socket."""
    from gateway import observability
    from gateway.config import runtime as runtime_config
    from gateway.providers.registry import forget_clients
    from gateway.resilience import guards
    from gateway.routing import slm_health
    from gateway.stores.api_keys import api_keys
    from gateway.stores.aws import forget_clients_and_credentials

    random.seed()  # from os.urandom: the jitter of every restored instance would otherwise be the same sequence
    forget_clients_and_credentials()
    forget_clients()
    guards.forget()
    runtime_config.in_force.forget()  # read again at once: a snapshot's version may be days old
    api_keys.cache_clear()  # a key disabled since the snapshot must not connect
    slm_health.forget()
    observability.forget_trace_socket()
