"""Secrets and personal data out of text before it leaves for a provider.

Each finding is replaced by a typed placeholder, `[REDACTED:<kind>]`, so a model still sees that a key
or an address was there. Compiled regexes, in one pass: every rule finds its spans, earlier rules win
overlaps, and the text is rebuilt once, so a placeholder is never matched again.

Why no library: detect-secrets (and gitleaks-style tools) scan files and report findings, they do not
rewrite text; presidio-analyzer and scrubadub find personal data through spaCy/NLTK models, which
would add hundreds of megabytes to a Lambda layer and seconds to a cold start, and still not know API
key formats. What is needed here is a few dozen well-known key shapes and e-mail addresses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = "[REDACTED:{kind}]"

# Words before `=` or `:` whose value is a secret (password=..., "api_key": "...", DB_PASSWORD=...).
# The prefix is bounded and anchored (see the lookbehinds where it is used): an unbounded one made every
# position of a long run like `a.a.a.a` a start, and the whole match quadratic.
_SECRET_NAME = (
    r"[A-Za-z0-9_.-]{0,40}?(?:password|passwd|pwd|passphrase|secret|api[_-]?key|apikey|access[_-]?token|"
    r"auth[_-]?token|refresh[_-]?token|client[_-]?secret|private[_-]?key|secret[_-]?(?:access[_-]?)?key|token)"
)
_SECRET_KEY_NAME = re.compile(rf"^{_SECRET_NAME}$", re.IGNORECASE)
# The kind of a value found by its name (password=..., "api_key": ...) depends on that name.
_NAMED = "named"
# Values that are references to a secret, not the secret: ${VAR}, {password}, %s, <password>, ****.
_NOT_A_VALUE = r"(?![$%{<*]|\[REDACTED)"
# Unquoted dotted names are code (password=settings.DB_PASSWORD), not a value.
_NOT_A_REFERENCE = r"(?![A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:[;&\s'\"]|$))"
# TypeScript's `const API_KEY: string = "..."`.
_TYPE_ANNOTATION = r"(?::\s*[A-Za-z_][\w.\[\]]*\s*)?"
# An unquoted value ends at a separator; brackets and parentheses mean code (os.environ["X"], f(x)).
_BARE_VALUE = r"[^\s;&,'\"()\[\]{}]{3,}"
# Home directories that name nobody (CI runners, containers, cloud images).
_SHARED_HOMES = "runner|ubuntu|ec2-user|app|node|root|user|Shared|Public|vscode|circleci|jenkins|gitpod|codespace"


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    group: int | str = 0  # the part of the match that is secret; the rest stays


def _rule(kind: str, pattern: str, group: int | str = 0, flags: int = 0) -> _Rule:
    return _Rule(kind, re.compile(pattern, flags), group)


# Order matters: the first rule that claims a span wins (sk-ant- before sk-, a JWT before a bearer token).
_RULES: tuple[_Rule, ...] = (
    # Base64 lines (and an encrypted key's headers) up to the END line, or as far as they go when cut off.
    # The END group's white-space runs are possessive (*+): two greedy runs side by side would make a long
    # run of spaces backtrack quadratically.
    _rule(
        "private_key",
        r"-----BEGIN [A-Z0-9 ]{0,20}PRIVATE KEY-----"
        r"(?:(?:\s|\\n)+(?:[A-Za-z0-9+/=]{16,}|(?:Proc-Type|DEK-Info):[^\n\\]*))*"
        r"(?:(?:\s|\\n)*+[A-Za-z0-9+/=]{0,15}(?:\s|\\n)*+-----END [A-Z0-9 ]{0,20}PRIVATE KEY-----)?",
    ),
    _rule("anthropic_key", r"(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}"),
    _rule("openai_key", r"(?<![\w-])sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}"),
    _rule("stripe_key", r"(?<![\w-])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|(?<![\w-])whsec_[A-Za-z0-9]{24,}"),
    _rule("google_api_key", r"(?<![\w-])AIza[0-9A-Za-z_-]{35}"),
    _rule("google_oauth_token", r"(?<![\w-])ya29\.[0-9A-Za-z_-]{20,}"),
    _rule("huggingface_token", r"(?<![\w-])hf_[A-Za-z0-9]{30,}"),
    _rule("github_token", r"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    _rule("gitlab_token", r"(?<![\w-])glpat-[A-Za-z0-9_-]{20,}"),
    _rule("slack_token", r"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}"),
    _rule("slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+"),
    _rule("sendgrid_key", r"(?<![\w-])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    _rule("npm_token", r"(?<![\w-])npm_[A-Za-z0-9]{36}"),
    _rule(
        "aws_access_key",
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    ),
    _rule(
        "aws_secret_key",
        r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key|SecretAccessKey)[\"']?\s*[:=]\s*[\"']?"
        r"(?P<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        "value",
    ),
    _rule("jwt", r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    _rule("bearer_token", r"(?i:\bbearer)\s+(?P<value>[A-Za-z0-9._~+/-]{12,}=*)", "value"),
    _rule(
        "basic_auth",
        r"(?i:authorization[\"']?\s*[:=]\s*[\"']?basic)\s+(?P<value>[A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])",
        "value",
    ),
    # scheme://user:password@host - the user name stays, it helps and names an account, not a person.
    _rule(
        "password", r"(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^\s:/@'\"]*:(?P<value>[^\s@/'\"]+)@", "value"
    ),
    # Quoted values of secret-named keys: password = "hunter2", "api_key": "abc123", apiKey := "x".
    _rule(
        _NAMED,
        rf"(?i:(?<![A-Za-z0-9_.-])(?P<name>{_SECRET_NAME}))[\"']?\s*{_TYPE_ANNOTATION}(?:==?|:=?|=>)\s*(?P<q>[\"'])"
        rf"(?P<value>{_NOT_A_VALUE}[^\"'\s]{{3,}})(?P=q)",
        "value",
    ),
    # Unquoted ones, as in connection strings, .env files and query strings: Password=p@ss; ?token=abc&.
    _rule(
        _NAMED,
        rf"(?i:(?<![A-Za-z0-9_.-])(?P<name>{_SECRET_NAME}))=(?P<value>{_NOT_A_VALUE}{_NOT_A_REFERENCE}{_BARE_VALUE})(?=[;&\s'\"]|$)",
        "value",
        re.MULTILINE,
    ),
    _rule(
        "email",
        r"(?<![\w.%+-])(?!git@)[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b",
    ),
    _rule(
        "username",
        rf"(?:/home/|/Users/|[A-Za-z]:\\Users\\|[A-Za-z]:/Users/)(?!(?:{_SHARED_HOMES})[/\\])(?P<value>[A-Za-z0-9._-]+)"
        r"(?=[/\\])",
        "value",
    ),
    _rule("credit_card", r"(?<![\d.])(?:4\d{3}|5[1-5]\d{2}|3[47]\d{2}|6011)(?:[ -]?\d{4}){2}[ -]?\d{1,4}(?![\d.])"),
)


@dataclass
class Redactions:
    """How many items were redacted, by kind, across every text passed through one redactor."""

    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.kinds.values())

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "kinds": dict(sorted(self.kinds.items()))}


class Redactor:
    """Redacts texts and remembers what it redacted, for the response's `redactions`."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        # The gateway's own keys are redacted wherever they appear, whatever their shape.
        self._known = sorted({s for s in known_secrets if len(s) >= 8}, key=len, reverse=True)
        self.redactions = Redactions()

    def text(self, value: str) -> str:
        """`value` with every secret replaced by its placeholder."""
        spans = _find(value, self._known)
        for _, _, kind in spans:
            self.redactions.kinds[kind] += 1
        return _replace(value, spans)

    def optional(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)

    def data(self, value: Any, key: str | None = None) -> Any:
        """A JSON-like value with keys and strings redacted; anything under a secret-named key is redacted whole."""
        if key is not None and _SECRET_KEY_NAME.match(key) and _has_content(value):
            kind = _named_kind(key)
            self.redactions.kinds[kind] += 1
            return PLACEHOLDER.format(kind=kind)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v, key) for v in value]  # a list under a secret-named key is secret too
        if isinstance(value, str):
            return self.text(value)
        return value


def _has_content(value: Any) -> bool:
    """Whether a value under a secret-named key holds anything (booleans and empties are not secrets)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, Mapping | list | tuple):
        return len(value) > 0
    return bool(str(value).strip())


def scrub(message: str, secrets: Sequence[str]) -> str:
    """`message` with each of the gateway's own keys replaced by `***` (cheap: for provider error messages)."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def redact(text: str, known_secrets: Iterable[str] = ()) -> tuple[str, Redactions]:
    """`text` with secrets and personal data replaced, and what was replaced."""
    redactor = Redactor(known_secrets)
    return redactor.text(text), redactor.redactions


def _find(text: str, known: Sequence[str]) -> list[tuple[int, int, str]]:
    taken: list[tuple[int, int, str]] = []
    for secret in known:
        start = text.find(secret)
        while start != -1:
            _claim(taken, start, start + len(secret), "gateway_key")
            start = text.find(secret, start + len(secret))
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            start, end = match.span(rule.group)
            if rule.kind == "credit_card" and not _luhn(match.group()):
                continue
            _claim(taken, start, end, _named_kind(match["name"]) if rule.kind == _NAMED else rule.kind)
    return sorted(taken)


def _named_kind(name: str) -> str:
    """A value found by its name: a password (password=, DB_PWD=) or another secret (api_key=, token=)."""
    return "password" if re.search(r"pass|pwd", name, re.IGNORECASE) else "secret"


def _claim(taken: list[tuple[int, int, str]], start: int, end: int, kind: str) -> None:
    if end > start and all(end <= s or start >= e for s, e, _ in taken):
        taken.append((start, end, kind))


def _replace(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    if not spans:
        return text
    out, cursor = [], 0
    for start, end, kind in spans:
        out.append(text[cursor:start])
        out.append(PLACEHOLDER.format(kind=kind))
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return len(digits) >= 13 and total % 10 == 0
