"""The AWS bill per million requests of each route path, from what `bench.perf` measured (durations, calls, request
units, log bytes) and the price table `shared/aws_prices.json`, beside the provider's price of a typical answer.

What it counts per request: Lambda (its request, and its duration at the function's memory, as measured here: the
emulator answers at once, so the time a real provider takes is priced apart, per second), API Gateway (REST: one
request; a job also its `GET /v1/jobs/{id}`), DynamoDB (on-demand request units), SQS (a job's send, and the event
source mapping's receive and delete), Secrets Manager (its calls: cached, about none per request), CloudWatch Logs
(what the function printed, plus Lambda's own START/END/REPORT lines) and X-Ray (the default sampling's share of
traces). Not counted: storage (DynamoDB items until their TTL, logs kept), data transfer, the secret's monthly fee,
the free tiers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PRICES = REPO_ROOT / "shared" / "aws_prices.json"
MODELS = REPO_ROOT / "shared" / "models.json"
PLATFORM_LOG_BYTES = 320  # Lambda's START, END and REPORT lines for one invocation
TYPICAL_TOKENS = (500, 500)  # input, output: a question of a paragraph and an answer of a few paragraphs
TYPICAL_MODELS = ("gemini-2.5-flash", "gemini-2.5-flash-lite", "meta-llama/Llama-3.1-8B-Instruct")
PATH_NOTES = {
    "miss": "a new prompt: the provider answers",
    "hit": "answered from the cache",
    "fallback": "the sLM fails (503, retried once), Gemini answers",
    "sampled": "temperature 0.7: no cache call",
    "job": "POST /v1/jobs + the SQS event that answers it",
}


@dataclass(frozen=True)
class Bill:
    """USD per million requests of one path, by service."""

    lines: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.lines.values())


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(path.read_text())
    return prices


def bill(path: str, figures: dict[str, float], memory_mb: int, prices: dict[str, Any]) -> Bill:
    """The bill per million requests of one path from its medians (`bench._perf.paths`)."""
    lam, apigw, ddb, xray = prices["lambda"], prices["api_gateway"], prices["dynamodb"], prices["xray"]
    invocations = figures["invocations"]
    billed_s = math.ceil(figures["ms"]) / 1000  # billed per 1 ms (the job's two invocations: rounded up once)
    api_requests = 2.0 if path == "job" else 1.0  # a job is also read back: GET /v1/jobs/{id}
    sqs_requests = figures["sqs"] + (2.0 if path == "job" else 0.0)  # the event source mapping's receive + delete
    log_gb = (figures["log_bytes"] + PLATFORM_LOG_BYTES * invocations) / 1e9
    million = 1e6
    return Bill(
        {
            "Lambda requests": invocations * lam["request_per_million"],
            "Lambda duration": billed_s * memory_mb / 1024 * lam["gb_second"] * million,
            "API Gateway": api_requests * apigw["rest_request_per_million"],
            "DynamoDB": figures["wru"] * ddb["write_request_unit_per_million"]
            + figures["rru"] * ddb["read_request_unit_per_million"],
            "SQS": sqs_requests * prices["sqs"]["standard_request_per_million"],
            "Secrets Manager": figures["secrets"] * prices["secrets_manager"]["api_call_per_10000"] * 100,
            "CloudWatch Logs": log_gb * prices["cloudwatch_logs"]["ingestion_per_gb"] * million,
            "X-Ray": invocations * xray["default_sampling_rate"] * xray["trace_recorded_per_million"],
        }
    )


def per_provider_second(memory_mb: int, prices: dict[str, Any]) -> float:
    """What each second a provider takes to answer adds per million requests (the function waits, and is billed)."""
    return float(memory_mb / 1024 * prices["lambda"]["gb_second"] * 1e6)


def typical_answers(models_path: Path = MODELS) -> list[tuple[str, float]]:
    """(model, USD per million answers) of a typical answer (`TYPICAL_TOKENS`), from the model catalogue."""
    models = json.loads(models_path.read_text())["models"]
    tokens_in, tokens_out = TYPICAL_TOKENS
    found = []
    for name in TYPICAL_MODELS:
        model = models.get(name)
        if model:
            per_answer = (tokens_in * model["input_per_million"] + tokens_out * model["output_per_million"]) / 1e6
            found.append((name, per_answer * 1e6))
    return found


def report(paths: dict[str, dict[str, float]], memory_mb: int, prices: dict[str, Any] | None = None) -> list[str]:
    """The bill's lines, ready to print."""
    prices = prices or load_prices()
    names = [name for name in PATH_NOTES if name in paths]
    bills = {name: bill(name, paths[name], memory_mb, prices) for name in names}
    services = list(next(iter(bills.values())).lines) if bills else []
    out = [
        f"AWS list prices of {prices['taken']} ({prices['region']}, shared/aws_prices.json), {memory_mb} MB arm64"
        " functions, durations as measured here (provider emulated: answers at once)",
        f"{'USD per million requests':<26}" + "".join(f"{name:>11}" for name in names),
    ]
    for service in services:
        out.append(f"  {service:<24}" + "".join(f"{bills[n].lines[service]:>11.2f}" for n in names))
    out.append(f"  {'total AWS':<24}" + "".join(f"{bills[n].total:>11.2f}" for n in names))
    wait = per_provider_second(memory_mb, prices)
    out.append(f"  + each second the provider takes to answer (the function waits, billed): {wait:.2f}")
    for name, usd in typical_answers():
        tokens_in, tokens_out = TYPICAL_TOKENS
        share = bills["miss"].total / usd if "miss" in bills and usd else 0.0
        out.append(
            f"  provider, a typical answer ({tokens_in} tokens in, {tokens_out} out) from {name}: {usd:,.2f}"
            + (f"  (the gateway's AWS bill on a miss is {share:.1%} of it)" if share else "")
        )
    out.append("  paths: " + "; ".join(f"{name}: {PATH_NOTES[name]}" for name in names))
    return out
