"""Sentence embeddings behind one small interface, for repetition detection.

`LocalEmbedder` is the default: no network, no model file. It is hand-rolled because every lean
embedding library needs a model download (sentence-transformers, fastembed, model2vec) and nothing
can be fetched in Lambda at cold start. It hashes content-word stems and their character trigrams
into a fixed-size vector, so it catches light paraphrases: reordering, filler and framing words
("please", "can you tell me"), inflections, -ise/-ize spellings, case and punctuation (a typo costs
about 0.25 of similarity). Paraphrases in other words need `GeminiEmbedder` (`EMBEDDING_PROVIDER=gemini`).
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
from typing import Any, Protocol

from gateway.languages import FUNCTION_WORDS
from gateway.settings import Settings
from gateway.stores.secrets import ProviderKeys
from gateway.topics import stem

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


class Embedder(Protocol):
    """Turns a text into a unit vector; vectors of different `name`s are not comparable."""

    name: str

    async def embed(self, text: str) -> list[float]: ...


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


class GeminiEmbedder:
    """`client.aio.models.embed_content` (google-genai), reduced to `dimensions` and normalised."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None,
        timeout_ms: int,
        dimensions: int = 256,
        httpx_async_client: Any = None,
    ) -> None:
        from google import genai
        from google.genai import types

        self._types = types
        self.model = model
        self.dimensions = dimensions
        self.name = f"gemini-{model}-{dimensions}"
        options = types.HttpOptions(
            base_url=base_url,
            timeout=timeout_ms,
            retry_options=types.HttpRetryOptions(attempts=1),
            httpx_async_client=httpx_async_client,
        )
        self._client = genai.Client(api_key=api_key, http_options=options)  # keep it referenced: see providers

    async def embed(self, text: str) -> list[float]:
        config = self._types.EmbedContentConfig(output_dimensionality=self.dimensions, task_type="SEMANTIC_SIMILARITY")
        response = await self._client.aio.models.embed_content(model=self.model, contents=[text], config=config)
        if not response.embeddings or not response.embeddings[0].values:
            raise ValueError("the embedding answer has no values")
        values = response.embeddings[0].values
        if len(values) != self.dimensions:
            raise ValueError(f"expected {self.dimensions} dimensions, got {len(values)}")
        return unit(values)  # below 3072 dimensions Gemini's vectors are not normalised


_LOCAL = LocalEmbedder()
_gemini: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, str | None], GeminiEmbedder]] = (
    weakref.WeakKeyDictionary()
)


def get_embedder(settings: Settings, keys: ProviderKeys) -> Embedder:
    """Gemini embeddings when `EMBEDDING_PROVIDER=gemini` and a Gemini key is set; the local one otherwise.

    Like the providers' SDK clients, a Gemini client is kept per event loop.
    """
    if settings.embedding_provider != "gemini" or not keys.gemini:
        return _LOCAL
    per_loop = _gemini.setdefault(asyncio.get_running_loop(), {})
    key = (keys.gemini, settings.gemini_embedding_model, settings.gemini_base_url)
    if key not in per_loop:
        per_loop[key] = GeminiEmbedder(
            api_key=keys.gemini,
            model=settings.gemini_embedding_model,
            base_url=settings.gemini_base_url,
            timeout_ms=settings.provider_timeout_ms,
        )
    return per_loop[key]
