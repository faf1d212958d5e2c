from __future__ import annotations

import pytest

from gateway.core.catalogue import catalogue, cost_usd
from gateway.routing.plan import detect_topic


def test_a_call_is_priced_from_the_catalogue() -> None:
    # gemini-2.5-flash: 0.30 USD per million input tokens, 2.50 per million output tokens
    assert cost_usd("gemini-2.5-flash", 1_000_000, 1_000_000) == pytest.approx(2.80)
    assert cost_usd("gemini-2.5-flash", 1000, 100) == pytest.approx(0.00055)


def test_an_unknown_model_is_unpriced_not_free() -> None:
    assert cost_usd("some/unknown-model", 1000, 1000) is None


def test_every_default_model_is_in_the_catalogue() -> None:
    from gateway.config.settings import load_settings

    settings = load_settings({})
    for model in (settings.gemini_model, settings.vllm_model, settings.hf_point_generator_model, settings.slm_model):
        assert model in catalogue().models


@pytest.mark.parametrize(
    ("prompt", "topic"),
    [
        ("Why does my Python function raise a KeyError?", "coding"),
        ("Calculate the derivative of x^2", "math"),
        ("Write a short poem about autumn", "writing"),
        ("Hello there", "general"),
    ],
)
def test_topic_detection(prompt: str, topic: str) -> None:
    assert detect_topic(prompt) == topic
