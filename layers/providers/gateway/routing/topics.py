"""Topic detection from a configurable topic list, with a keyword classifier that needs no network.

Hand-rolled on purpose: a topic list changes per deployment (`ROUTE_TOPICS`), so a trained classifier
would need retraining and a model file in the layer; scoring each topic by the stems of its keywords
found in the prompt is instant, explainable and good enough to partition interactions by topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

GENERAL = "general"
DEFAULT_TOPICS: dict[str, tuple[str, ...]] = {
    "coding": (
        "code", "python", "javascript", "typescript", "java", "rust", "golang", "function", "bug", "error",
        "exception", "compile", "api", "sql", "class", "variable", "debug", "program", "script", "regex",
        "git", "docker", "list", "dictionary", "array", "loop", "library", "framework", "generator",
    ),
    "math": (
        "math", "equation", "integral", "derivative", "sum", "prove", "proof", "calculate", "algebra", "number",
        "matrix", "probability", "statistics", "geometry", "theorem", "fraction", "percent", "solve",
    ),
    "science": (
        "physics", "chemistry", "biology", "atom", "energy", "cell", "planet", "experiment", "molecule",
        "gravity", "evolution", "quantum", "climate", "species", "photosynthesis",
    ),
    "writing": (
        "write", "essay", "poem", "story", "rewrite", "summarize", "summarise", "translate", "letter",
        "paragraph", "grammar", "headline", "blog", "email",
    ),
    "business": (
        "market", "marketing", "sales", "revenue", "customer", "price", "pricing", "strategy", "budget",
        "invoice", "startup", "profit", "investor", "cost",
    ),
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_TOPIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    score: int  # keyword hits; 0 for the `general` fallback


def stem(word: str) -> str:
    """A crude English stem (plural, -ing, -ed, -ly), enough to match `functions` with `function`."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ed", "ly", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def normalize_topic(name: str) -> str:
    """A topic name safe for a DynamoDB key and an S3 partition: lowercase, `_` for spaces."""
    topic = re.sub(r"\s+", "_", name.strip().lower())
    if not _TOPIC_NAME.match(topic):
        raise ValueError("a topic is 1-64 characters: letters, digits, '_' or '-'")
    return topic


@lru_cache(maxsize=8)
def parse_topics(spec: str) -> dict[str, frozenset[str]]:
    """`ROUTE_TOPICS`: empty for the defaults, else `name[:kw1|kw2...]` entries separated by commas.

    A listed name without keywords uses the default keywords of that name, or the name itself.
    """
    if not spec.strip():
        return {name: frozenset(stem(k) for k in keywords) for name, keywords in DEFAULT_TOPICS.items()}
    topics: dict[str, frozenset[str]] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, _, keywords = entry.partition(":")
        topic = normalize_topic(name)
        words = [k.strip().lower() for k in keywords.split("|") if k.strip()]
        if not words:
            words = list(DEFAULT_TOPICS.get(topic, ())) or _WORD.findall(topic.replace("_", " "))
        topics[topic] = frozenset(stem(w) for w in words)
    return topics


def detect_topic(prompt: str, spec: str = "") -> TopicMatch:
    """The topic whose keywords the prompt mentions most (the first listed on a tie); `general` when none."""
    stems = [stem(word) for word in _WORD.findall(prompt.lower())]
    best = TopicMatch(GENERAL, 0)
    for topic, keywords in parse_topics(spec).items():
        score = sum(s in keywords for s in stems)
        if score > best.score:
            best = TopicMatch(topic, score)
    return best
