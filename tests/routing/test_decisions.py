"""Routing decisions: topic, language, complexity and the chain each configuration asks for."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.analysis.languages import detect_language
from gateway.config.settings import load_settings
from gateway.endpoints.route import RouteRequest
from gateway.providers.base import ProviderKeys
from gateway.routing.answer_cache import cache_mode
from gateway.routing.complexity import score_complexity
from gateway.routing.plan import decide, plan_chain
from gateway.routing.topics import detect_topic

KEYS = ProviderKeys(gemini="g-key", huggingface="hf-key")
SLM = {"SLM_MODE": "http", "SLM_ENDPOINT_URL": "http://slm.test/generate"}


@pytest.mark.parametrize(
    ("environment", "level", "healthy", "chain", "reason"),
    [
        (SLM, "simple", True, ["slm", "gemini", "huggingface"], "the sLM first"),
        (SLM, "complex", True, ["gemini", "huggingface"], "complex prompt"),
        (SLM, "simple", False, ["gemini", "huggingface"], "last probe failed"),
        ({**SLM, "AI_USE_VLLM_BACKUP": "false"}, "simple", True, ["slm", "gemini"], "AI_USE_VLLM_BACKUP=false"),
        ({**SLM, "AI_PRIMARY_PROVIDER": "vllm"}, "simple", True, ["slm", "huggingface", "gemini"], "vllm"),
        ({**SLM, "AI_PRIMARY_PROVIDER": "vllm"}, "complex", True, ["huggingface", "gemini"], "vllm"),
        ({**SLM, "VLLM_TRAINED": "true"}, "complex", True, ["huggingface", "gemini"], "VLLM_TRAINED"),
        (
            {**SLM, "VLLM_TRAINED": "true", "AI_USE_VLLM_BACKUP": "false"},
            "complex",
            True,
            ["huggingface", "gemini"],
            "VLLM_TRAINED",
        ),
        ({"SLM_MODE": "local"}, "simple", True, ["gemini", "huggingface"], "SLM_MODE=local"),
        ({"SLM_MODE": "http"}, "simple", True, ["gemini", "huggingface"], "no SLM_ENDPOINT_URL"),
    ],
)
def test_each_configuration_routes_as_its_names_say(
    environment: dict[str, str], level: str, healthy: bool, chain: list[str], reason: str
) -> None:
    # Given a configuration and a prompt of some complexity
    settings = load_settings(environment)
    # When the chain is planned
    specs, why = plan_chain(settings, KEYS, level, lambda: healthy)  # type: ignore[arg-type]
    # Then the providers come in the configured order, and the reason says why
    assert [spec.name for spec in specs] == chain
    assert reason in why


def test_an_unconfigured_provider_is_left_out_and_named() -> None:
    specs, why = plan_chain(load_settings(SLM), ProviderKeys(gemini="g-key"), "simple", lambda: True)
    assert [spec.name for spec in specs] == ["slm", "gemini"]
    assert "not configured: huggingface" in why


@pytest.mark.parametrize(
    ("prompt", "topic"),
    [
        ("Why does my Python function raise a KeyError?", "coding"),
        ("Calculate the derivative of x^2", "math"),
        ("Write a short poem about autumn", "writing"),
        ("How do plants do photosynthesis in a cell?", "science"),
        ("What pricing strategy suits a startup with few customers?", "business"),
        ("Hello there", "general"),
    ],
)
def test_the_default_topics_are_detected(prompt: str, topic: str) -> None:
    assert detect_topic(prompt).topic == topic


def test_a_configured_topic_list_replaces_the_defaults() -> None:
    # Given ROUTE_TOPICS with one keyword topic and one named-only topic
    topics = "cooking:recipe|bake|oven|flour,travel,coding"
    # Then prompts are classified among those topics only
    assert detect_topic("A recipe to bake bread without an oven?", topics).topic == "cooking"
    assert detect_topic("Travel tips for Japan", topics).topic == "travel"
    assert detect_topic("Fix this Python bug", topics).topic == "coding"
    assert detect_topic("Calculate the derivative of x^2", topics).topic == "general"


def test_the_topic_hint_wins_over_detection() -> None:
    request = RouteRequest(user_id="u", prompt="Fix this Python bug", topic_hint="Legal Advice")
    decision = decide(request, load_settings({}), KEYS)
    assert (decision.topic, decision.topic_source) == ("legal_advice", "hint")


@pytest.mark.parametrize(
    ("prompt", "language"),
    [
        ("What is the capital of France and why is it famous?", "en"),
        ("¿Cuál es la capital de Francia y por qué es famosa?", "es"),
        ("Quelle est la capitale de la France et pourquoi est-elle célèbre ?", "fr"),
        ("Was ist die Hauptstadt von Frankreich und warum ist sie berühmt?", "de"),
        ("Qual è la capitale della Francia e perché è famosa?", "it"),
        ("Qual é a capital da França e por que ela é famosa?", "pt"),
        ("Какая столица у Франции и почему она знаменита?", "ru"),
        ("法国的首都是哪里？为什么它很有名？", "zh"),
        ("フランスの首都はどこですか？なぜ有名なのですか？", "ja"),
        ("프랑스의 수도는 어디이고 왜 유명한가요?", "ko"),
        ("ما هي عاصمة فرنسا ولماذا هي مشهورة؟", "ar"),
        ("फ्रांस की राजधानी क्या है और यह क्यों प्रसिद्ध है?", "hi"),
    ],
)
def test_the_twelve_languages_are_detected(prompt: str, language: str) -> None:
    assert detect_language(prompt) == language


def test_an_explicit_language_wins_and_an_unknown_one_defaults_to_english() -> None:
    settings = load_settings({})
    asked = decide(RouteRequest(user_id="u", prompt="What is Python?", language="ja"), settings, KEYS)
    assert (asked.language, asked.language_source) == ("ja", "request")
    unknown = decide(RouteRequest(user_id="u", prompt="42 + 17 = ?"), settings, KEYS)
    assert (unknown.language, unknown.language_source) == ("en", "default")


def test_short_plain_questions_are_simple_and_demanding_ones_complex() -> None:
    simple = score_complexity("What is a Python generator?", max_output_tokens=256, language="en", threshold=0.5)
    assert simple.level == "simple"
    assert simple.reasons == ()
    demanding = score_complexity(
        "Design a multi-region architecture for a payments platform, compare the trade-offs step by step "
        "and write a detailed report.",
        max_output_tokens=4096,
        language="en",
        threshold=0.5,
    )
    assert demanding.level == "complex"
    assert any("large output budget" in reason for reason in demanding.reasons)
    assert any("asks for reasoning" in reason for reason in demanding.reasons)


def test_a_non_english_prompt_is_scored_harder_than_the_same_in_english() -> None:
    english = score_complexity("Explain recursion.", max_output_tokens=256, language="en", threshold=0.5)
    spanish = score_complexity("Explica la recursión.", max_output_tokens=256, language="es", threshold=0.5)
    assert spanish.score > english.score


@pytest.mark.parametrize(
    ("header", "mode"),
    [(None, "use"), ("no-cache", "refresh"), ("max-age=0, No-Cache", "refresh"), ("no-store", "off"), ("", "use")],
)
def test_cache_control_decides_how_the_cache_is_used(header: str | None, mode: str) -> None:
    assert cache_mode(header) == mode


@pytest.mark.parametrize("hint", ["../etc", "a/b", "x" * 65, "tópico"])
def test_a_topic_hint_that_cannot_name_a_partition_is_refused(hint: str) -> None:
    with pytest.raises(ValidationError, match="topic_hint"):
        RouteRequest(user_id="u", prompt="p", topic_hint=hint)
