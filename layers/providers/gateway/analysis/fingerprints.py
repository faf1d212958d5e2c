"""What identifies an error across occurrences, and the natural language its message is written in."""

from __future__ import annotations

import hashlib
import json
import re

from gateway.analysis.languages import detect_language

_VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    # Quoted text is kept: it may be a person's data ('Jane Doe, 12 Rue de Rivoli'), and an analysis of
    # one client's data must never be served to another from the cache. Only its numbers are masked.
    (re.compile(r"\d+(?:\.\d+)*"), "<n>"),
    (re.compile(r"\s+"), " "),
)
# Identifiers, paths, quoted values and placeholders say nothing about the language a person writes in.
# An apostrophe inside a word (French n'existe, Italian l'utente) is not a quote.
_NOT_PROSE = re.compile(
    r"\[REDACTED:\w+\]|(?<!\w)(['\"«»`])[^\n]*?\1(?!\w)|(?<!\S)\S*[/\\._:=<>(){}\[\]@#]\S*|\b[a-z]+[A-Z]\w*|\b[A-Z]{2,}\b"
)


def normalise_message(message: str) -> str:
    """The message with what varies between occurrences of one error (numbers, ids, data) masked."""
    for pattern, replacement in _VOLATILE:
        message = pattern.sub(replacement, message)
    return message.strip()


def language_of_text(text: str) -> str | None:
    """The natural language of an error message, judged on its words, not its code; None if unclear."""
    return detect_language(_NOT_PROSE.sub(" ", text))


def fingerprint(
    exception_type: str | None, message: str | None, file: str | None, function: str | None, line: int | None
) -> str:
    """The same for identical errors: type, normalised message and the innermost user frame."""
    parts = [exception_type, normalise_message(message or ""), file, function, line]
    return digest(json.dumps(parts))[:32]


def digest(text: str | None) -> str:
    """The SHA-256 of a text, in hex; "" for none."""
    return "" if text is None else hashlib.sha256(text.encode()).hexdigest()
