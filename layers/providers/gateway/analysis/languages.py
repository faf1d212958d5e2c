"""The 12 answer languages, and a small detector for them that needs no model and no network.

Hand-rolled on purpose: the lean detectors on PyPI either download a model at first use (fastText,
lingua's large profiles) or are nondeterministic (langdetect); for 12 languages, the script
(Han, kana, Hangul, Arabic, Devanagari, Cyrillic) settles six, and a few hundred function words and
diacritics separate the six Latin-script ones well enough on anything longer than a few words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
    "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "hi": "Hindi",
}  # fmt: skip
DEFAULT_LANGUAGE = "en"

_SCRIPTS: tuple[tuple[str, str], ...] = (  # (language, a regex class of its script), most specific first
    ("ja", r"[\u3040-\u30ff]"),  # hiragana and katakana: Japanese even when Han characters dominate
    ("ko", r"[\uac00-\ud7af\u1100-\u11ff]"),
    ("zh", r"[\u4e00-\u9fff]"),
    ("ar", r"[\u0600-\u06ff]"),
    ("hi", r"[\u0900-\u097f]"),
    ("ru", r"[\u0400-\u04ff]"),
)
_FUNCTION_WORDS = {
    "en": "the and is are was were what how why which who of to in for with this that these you your my it "
    "can could would should do does did please explain write tell me an be have has not on from about",
    "es": "el la los las del que y en es por para con una un cómo como qué por qué porque se mi tu su lo "
    "más pero sus le ya o este esta son está explica escribe dime hola cuál cuáles muy también",
    "fr": "le la les des du et est que qui pour avec une un comment pourquoi je vous ce cette dans sur pas "
    "ne au aux sont mais ou il elle nous explique écris dis-moi bonjour quel quelle très aussi",
    "de": "der die das und ist nicht ein eine wie warum was ich sie mit für auf zu den dem des ein einen "
    "sind aber oder es wir ihr erkläre schreibe bitte hallo welche welcher sehr auch kann",
    "it": "il lo gli di che è per con una un come perché cosa sono del della delle dei nel non ma anche "
    "io tu lui lei noi voi spiega scrivi dimmi ciao qual quale quali molto questo questa",
    "pt": "o os as do da dos das que é para com uma um como por porque não em no na você eu ele ela "
    "nós mas ou também explique escreva diga olá qual quais muito isso este esta são está",
}
FUNCTION_WORDS = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_DIACRITICS = {  # characters that point at one language more than the others
    "es": "ñ¿¡",
    "pt": "ãõ",
    "de": "ßäöü",
    "fr": "œêùâîûç",
    "it": "ìò",
}
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)?")


def detect_language(text: str) -> str | None:
    """The language of `text` among the 12, or None when nothing points at any of them."""
    text = unicodedata.normalize("NFC", text)
    for language, script in _SCRIPTS:
        if len(re.findall(script, text)) >= 2:
            return language
    words = [w.lower() for w in _WORD.findall(text)]
    scores: Counter[str] = Counter()
    for word in words:
        for language, vocabulary in FUNCTION_WORDS.items():
            if word in vocabulary:
                scores[language] += 1
    lowered = text.lower()
    for language, marks in _DIACRITICS.items():
        scores[language] += 2 * sum(lowered.count(mark) for mark in marks)
    if not scores:
        return None
    best, score = max(scores.items(), key=lambda item: (item[1], item[0] == DEFAULT_LANGUAGE))
    return best if score > 0 else None
