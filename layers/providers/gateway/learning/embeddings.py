"""Sentence embeddings behind one small interface, for repetition detection.

`LocalEmbedder` is the default: no network, no model file. It is hand-rolled because every lean
embedding library needs a model download (sentence-transformers, fastembed, model2vec) and nothing
can be fetched in Lambda at cold start. It hashes content-word stems and their character trigrams
into a fixed-size vector, so it catches light paraphrases: reordering, filler and framing words
("please", "can you tell me"), inflections, -ise/-ize spellings, case and punctuation (a typo costs
about 0.25 of similarity). Paraphrases in other words need a provider's embedder (`EMBEDDING_PROVIDER=gemini`:
`gateway.providers.gemini.GeminiEmbedder`).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import struct
import unicodedata
import weakref
from collections import Counter
from collections.abc import Sequence

from gateway.analysis.languages import FUNCTION_WORDS
from gateway.config.settings import Settings
from gateway.providers import registry
from gateway.providers.base import Embedder, ProviderKeys
from gateway.routing.topics import stem

_FRAMING_WORDS = """
a an i im i'm we us our you your me my it its is are be been being am was were do does did done
can could would should will shall may might must please kindly just some any the this that these those
what whats what's how why when where which who whom whose there here of to in on at by for from with
about into over as or and but if so than then also very really quite tell show give help want need
know like way explain describe let lets let's get make sure thanks thank hi hello hey
s t d m ll re ve
"""
_FRAMING = frozenset(_FRAMING_WORDS.split())
STOPWORDS = _FRAMING | frozenset().union(*FUNCTION_WORDS.values())
_TOKEN = re.compile(r"\w+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]+")
_TRIGRAM_WEIGHT = 0.3
_BRITISH_ISE = re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations)$")  # summarise -> summarize


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors of the same length (0.0 when either is zero)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else list(vector)


def encode_vector(vector: Sequence[float]) -> bytes:
    """Half-precision little-endian floats: a quarter of the JSON size, precise enough for cosine."""
    return struct.pack(f"<{len(vector)}e", *vector)


def decode_vector(data: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(data) // 2}e", data))


class LocalEmbedder:
    """Signed feature hashing of content-word stems (weight 1) and their character trigrams."""

    def __init__(self, dimensions: int = 512) -> None:
        self.dimensions = dimensions
        self.name = f"local-ngram-{dimensions}"

    def features(self, text: str) -> Counter[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        found: Counter[str] = Counter()
        for run in _CJK_RUN.findall(text):  # no spaces between CJK words: character bigrams instead
            found.update(f"b:{run[i : i + 2]}" for i in range(max(1, len(run) - 1)))
        for token in _TOKEN.findall(_CJK_RUN.sub(" ", text)):
            if token in STOPWORDS:
                continue
            word = stem(_BRITISH_ISE.sub(r"iz\1", token))
            found[f"w:{word}"] += 1
            padded = f"#{word}#"
            found.update(f"t:{padded[i : i + 3]}" for i in range(len(padded) - 2))
        return found

    def vector(self, text: str) -> list[float]:
        values = [0.0] * self.dimensions
        for feature, count in self.features(text).items():
            digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
            weight = (1 + math.log(count)) * (_TRIGRAM_WEIGHT if feature.startswith("t:") else 1.0)
            values[digest % self.dimensions] += weight if digest >> 63 else -weight
        return unit(values)

    async def embed(self, text: str) -> list[float]:
        return self.vector(text)


_LOCAL = LocalEmbedder()
_embedders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, Settings], Embedder]] = (
    weakref.WeakKeyDictionary()
)


def get_embedder(settings: Settings, keys: ProviderKeys) -> Embedder:
    """The provider's embedder when `EMBEDDING_PROVIDER` names one with a key (Gemini); the local one otherwise.

    Like the providers' SDK clients, a provider's embedder is kept per event loop.
    """
    name = settings.embedding_provider
    if name == "local" or not keys.get(name):
        return _LOCAL
    per_loop = _embedders.setdefault(asyncio.get_running_loop(), {})
    cache_key = (name, keys.get(name), settings)
    embedder = per_loop.get(cache_key)
    if embedder is None:
        embedder = registry.embedder(name, settings, keys) or _LOCAL
        per_loop[cache_key] = embedder
    return embedder
