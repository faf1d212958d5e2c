"""The environment of the local gateway: real providers where keys are given, the emulator elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dev.aws_stack import StackResources

EMULATOR_KEY = "local-emulator-key"
AWS_DUMMY = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class LocalSetup:
    environment: dict[str, str]
    secret_values: dict[str, str]
    real_providers: list[str]


def local_setup(environ: Mapping[str, str], emulator_url: str, resources: StackResources) -> LocalSetup:
    """Decide, provider by provider, between the caller's real keys and the emulator.

    Keys go into the (moto) Secrets Manager secret, so the gateway reads them the way it does in AWS.
    """
    env = {**AWS_DUMMY, **resources.environment(), "GATEWAY_MODE": "local"}
    env["POWERTOOLS_METRICS_NAMESPACE"] = environ.get("POWERTOOLS_METRICS_NAMESPACE", "AiGatewayLocal")
    secret = {"GEMINI_API_KEY": EMULATOR_KEY, "HUGGINGFACE_API_KEY": EMULATOR_KEY, "SLM_AUTH_BEARER": ""}
    real = []
    if environ.get("GEMINI_API_KEY"):
        secret["GEMINI_API_KEY"] = environ["GEMINI_API_KEY"]
        real.append("gemini")
    else:
        env["GEMINI_BASE_URL"] = emulator_url
    hf_key = environ.get("HUGGINGFACE_API_KEY") or environ.get("VLLM_API_KEY")
    if hf_key:
        secret["HUGGINGFACE_API_KEY"] = hf_key
        real.append("huggingface")
    else:
        env["HF_BASE_URL"] = emulator_url
    if environ.get("SLM_ENDPOINT_URL"):
        secret["SLM_AUTH_BEARER"] = environ.get("SLM_AUTH_BEARER", "")
        real.append("slm")
    elif environ.get("SLM_MODE", "http") == "http":
        env.update({"SLM_MODE": "http", "SLM_ENDPOINT_URL": f"{emulator_url}/generate"})
    return LocalSetup(env, secret, real)
