"""How hard a prompt is: a score in [0, 1] from its length, structure, language and asked output size.

The score decides the route: a simple prompt goes to the small model first, a complex one straight to
the cloud chain. The reasons are returned with the score, so a client can see why it was routed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Level = Literal["simple", "complex"]

_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
# [ \t], not \s, after ^ in multi-line mode: \s also eats newlines, and a prompt of many blank lines
# would then be scanned from every line start to its end (quadratic).
_CODE = re.compile(r"```|^[ \t]{4,}\S|[{};][ \t]*$|\bdef |\bclass |\bfunction\b|=>", re.M)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*•]|\d+[.)])[ \t]+", re.M)
_REASONING = re.compile(
    r"\b(?:step[- ]by[- ]step|prove|derive|analy[sz]e|compare|contrast|trade-?offs?|design|architect\w*|"
    r"optimi[sz]e|evaluate|critique|pros and cons|in depth|justify|plan)\b",
    re.I,
)
_LONG_OUTPUT = re.compile(
    r"\b(?:detailed|comprehensive|thorough|exhaustive|essay|report|article|chapter|full implementation|"
    r"\d{3,}\s+words|\d+\s+pages?)\b",
    re.I,
)


@dataclass(frozen=True)
class Complexity:
    score: float
    level: Level
    reasons: tuple[str, ...]


def score_complexity(prompt: str, *, max_output_tokens: int, language: str, threshold: float) -> Complexity:
    """Score a prompt; at or above `threshold` it is `complex`."""
    score = 0.0
    reasons: list[str] = []

    def add(points: float, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(reason)

    cjk = len(_CJK.findall(prompt))
    words = len(prompt.split()) + cjk // 2  # CJK has no spaces: about two characters a word
    if words > 40:
        add(min(0.4, (words - 40) / 400), f"long prompt ({words} words)")
    if len(_CODE.findall(prompt)) >= 2:
        add(0.2, "contains code")
    if len(_LIST_ITEM.findall(prompt)) >= 3:
        add(0.1, "structured list")
    if prompt.count("?") + prompt.count("？") >= 3:
        add(0.1, "several questions")
    asks = {m.lower() for m in _REASONING.findall(prompt)}
    if asks:
        add(min(0.3, 0.15 * len(asks)), "asks for reasoning: " + ", ".join(sorted(asks)))
    if _LONG_OUTPUT.search(prompt):
        add(0.2, "asks for a long answer")
    if max_output_tokens > 1024:
        add(0.3 if max_output_tokens >= 4096 else 0.2, f"large output budget ({max_output_tokens} tokens)")
    if language != "en":
        add(0.15, f"non-English ({language})")  # small models are weakest outside English
    score = round(min(1.0, score), 3)
    return Complexity(score, "complex" if score >= threshold else "simple", tuple(reasons))
