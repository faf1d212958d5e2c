"""Stack traces of Python, JavaScript/TypeScript (Node and browsers), Java (and Kotlin) and Go, parsed.

What a model (and a person) needs first: the exception type, its message, and the innermost frame of
the user's own code, not of the standard library, a framework or a dependency.

Which exception is reported when several are chained:
- Python prints the cause first and the exception that reached the user last: the last one.
- Java prints the wrapper first and the root cause last (`Caused by:`), and wrappers such as Spring's
  "Request processing failed" say little: the root cause.
- Go: the panic's value (or, for `fatal error:`, the runtime's message); for a `%+v`-printed error
  chain, the whole chain, with the type of the innermost standard error when it is a well-known one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Language = Literal["python", "javascript", "java", "go"]


@dataclass(frozen=True)
class Frame:
    file: str
    line: int | None
    function: str | None
    user_code: bool


@dataclass(frozen=True)
class ParsedError:
    """What was understood of an error: its language, type, message and innermost user frame."""

    language: Language | None
    exception_type: str | None
    message: str | None
    frame: Frame | None


_LANGUAGE_ALIASES: dict[str, Language] = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "django": "python",
    "flask": "python",
    "javascript": "javascript",
    "js": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "node.js": "javascript",
    "typescript": "javascript",
    "ts": "javascript",
    "react": "javascript",
    "java": "java",
    "kotlin": "java",
    "kt": "java",
    "scala": "java",
    "go": "go",
    "golang": "go",
}


def language_of(hint: str | None) -> Language | None:
    """The parser a request's `error.language` names (python, node, typescript, kotlin, golang...)."""
    return _LANGUAGE_ALIASES.get(hint.strip().lower()) if hint else None


def parse_error(text: str, hint: str | None = None) -> ParsedError:
    """Parse a stack trace (or a bare error message); `hint` is the programming language, if known."""
    text = text.replace("\r\n", "\n")
    preferred = language_of(hint)
    order: list[Language] = [preferred] if preferred else []
    order += [lang for lang in _detect(text) if lang not in order]
    for language in order:
        parsed = _PARSERS[language](text)
        if parsed is not None:
            return parsed
    if preferred == "go":  # an error chain without a stack: `sync orders: fetch page 3: context deadline exceeded`
        head = _go_head(text)
        return ParsedError("go", _go_error_type(head), head or None, None)
    exception_type, message = _header(text.strip().splitlines()[0] if text.strip() else "", strict=False)
    return ParsedError(preferred, exception_type, message, None)


# ---------------------------------------------------------------- detection


def _detect(text: str) -> list[Language]:
    found: list[Language] = []
    if _PY_FRAME.search(text) or "Traceback (most recent call last)" in text:
        found.append("python")
    if _GO_FRAME_FILE.search(text) or re.search(r"^(?:panic: |fatal error: |goroutine \d+ \[)", text, re.M):
        found.append("go")
    if _JAVA_FRAME.search(text):
        found.append("java")
    if _JS_FRAME.search(text) or _JS_FIREFOX_FRAME.search(text):
        found.append("javascript")
    return found


_HEADER = re.compile(
    r"^(?:Uncaught\s+(?:\(in promise\)\s+)?|Exception in thread \"[^\"]*\"\s+|Caused by:\s+|\[ERROR\]\s+)?"
    r"(?P<type>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?::\s?(?P<message>.*))?$"
)


def _header(line: str, *, strict: bool) -> tuple[str | None, str | None]:
    """`Type: message` from an exception line; a line that is not one is a message without a type.

    `strict`: the type must look like an exception's (named ...Error/...Exception, or fully qualified),
    for lines found by searching, where `DETAIL: ...` or `WARNING: ...` may come first.
    """
    line = line.strip()
    bracketed = re.match(r"^\[(?P<inner>.*)\](?: \{)?$", line)  # Node: [Error: ENOENT: ...] { errno: -2 }
    if bracketed:
        line = bracketed["inner"]
    match = _HEADER.match(line)
    if match is None:
        return None, line or None
    name, message = match["type"], (match["message"] or "").strip() or None
    looks_like_type = _looks_like_type(name)
    if strict and not looks_like_type:
        return None, line or None
    if message is None and not (looks_like_type or name[:1].isupper()):
        return None, line or None
    return name, message


def _looks_like_type(name: str) -> bool:
    parts = re.split(r"[.$]", name)
    if len(parts) > 1 and parts[-1][:1].isupper() and not name.startswith(("http", "www")):
        return True
    return bool(re.search(r"(?:Error|Exception|Exit|Interrupt|Warning|Fault|Failure|Throwable)$", parts[-1]))


# ---------------------------------------------------------------- Python

_PY_FRAME = re.compile(r'^[ \t]*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+))?$', re.M)
_PY_CHAIN = re.compile(
    r"^(?:During handling of the above exception, another exception occurred:"
    r"|The above exception was the direct cause of the following exception:)$",
    re.M,
)
_PY_LIBRARY = re.compile(
    r"site-packages|dist-packages|[/\\]lib[/\\]python\d(?:\.\d+)?[/\\]|[/\\]Lib[/\\]|^<frozen |^<string>$"
    r"|^/var/runtime/|[/\\]\.pyenv[/\\]versions[/\\]|[/\\]\.tox[/\\]"
)


def _parse_python(text: str) -> ParsedError | None:
    blocks = [b for b in _PY_CHAIN.split(text) if b.strip()]
    if not blocks or not _PY_FRAME.search(text):
        return None
    frames_per_block = [_python_frames(block) for block in blocks]
    exception_type, message = _python_exception(blocks[-1])
    frame = _innermost_user(frames_per_block, innermost_last=True)
    return ParsedError("python", exception_type, message, frame)


def _python_frames(block: str) -> list[Frame]:
    frames = []
    for match in _PY_FRAME.finditer(block):
        file = match["file"]
        user = not _PY_LIBRARY.search(file)
        frames.append(Frame(file, int(match["line"]), (match["function"] or "").strip() or None, user))
    return frames


def _python_exception(block: str) -> tuple[str | None, str | None]:
    lines = block.rstrip().splitlines()
    last_frame = max((i for i, line in enumerate(lines) if _PY_FRAME.match(line)), default=-1)
    # The exception line is the first unindented line after the last frame (its code and ^^^ are indented).
    for index in range(last_frame + 1, len(lines)):
        line = lines[index]
        if line and not line[0].isspace():
            exception_type, first = _header(line, strict=False)
            rest = [extra.strip() for extra in lines[index + 1 : index + 6] if extra.strip()]
            message = "\n".join(part for part in (first, *rest) if part) or None
            return exception_type, message
    first_frame = next((i for i, line in enumerate(lines) if _PY_FRAME.match(line)), len(lines))
    return _header_before(lines, first_frame)  # AWS Lambda: "[ERROR] KeyError: 'body'" above the traceback


# ---------------------------------------------------------------- JavaScript / TypeScript

_JS_FRAME = re.compile(
    r"^[ \t]*at (?:(?:async |new )?(?P<function>[^()\n]*?) \((?P<loc>(?:[^()\n]|\([^()\n]*\))*)\)"
    r"|(?:async )?(?P<bare>\S+:\d+(?::\d+)?|<anonymous>))(?: \{)?$",
    re.M,
)
_JS_FIREFOX_FRAME = re.compile(r"^(?P<function>[\w$.<>/]*)@(?P<loc>(?:https?|file|webpack|[a-z-]+):\S+:\d+:\d+)$", re.M)
_JS_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<column>\d+))?$")
_JS_LIBRARY = re.compile(
    r"node_modules|^node:|^internal[/\\]|^<anonymous>$|^native$|^\[native code\]$|webpack/bootstrap|vendors?[~.-]"
    r"|\.(?:development|production\.min)\.js$"  # React's and other libraries' browser builds
    # Node's own modules before node: prefixes (events.js:377, net.js:1331, _stream_readable.js:...)
    r"|^(?:events|timers|net|fs|module|http|https|tls|dns|domain|stream|util|zlib|child_process|_stream_\w+)\.js$"
)


def _parse_javascript(text: str) -> ParsedError | None:
    lines = text.splitlines()
    frame_lines = [i for i, line in enumerate(lines) if _JS_FRAME.match(line) or _JS_FIREFOX_FRAME.match(line)]
    if not frame_lines:
        return None
    frames = [f for f in (_js_frame(lines[i]) for i in frame_lines) if f is not None]
    exception_type, message = _header_before(lines, frame_lines[0])
    frame = _innermost_user([frames], innermost_last=False)
    return ParsedError("javascript", exception_type, message, frame)


def _js_frame(line: str) -> Frame | None:
    match = _JS_FRAME.match(line) or _JS_FIREFOX_FRAME.match(line)
    if match is None:
        return None
    groups = match.groupdict()
    loc = groups.get("loc") or groups.get("bare") or ""
    function = (groups.get("function") or "").strip() or None
    location = _JS_LOCATION.match(loc.strip())
    if location is None:  # `at <anonymous>`, `at Array.forEach (native)`
        return Frame(loc.strip(), None, function, False)
    file = re.sub(r"^(?:file://|webpack-internal:///|webpack://[^/]*/)(?:\([\w-]+\)/)?", "", location["file"])
    return Frame(file, int(location["line"]), function, not _JS_LIBRARY.search(file))


# ---------------------------------------------------------------- Java / Kotlin

_JAVA_FRAME = re.compile(
    r"^[ \t]*at (?:[\w.$-]+(?:@[\w.-]+)?/+)?(?P<method>[\w$.<>\-]+)\((?P<loc>[^)]*)\)(?:\s*~?\[[^\]]*\])?\s*$", re.M
)
_JAVA_CAUSED_BY = re.compile(r"^[ \t]*Caused by: ", re.M)
_JAVA_LIBRARY_PACKAGES = (
    "java.", "javax.", "jakarta.", "sun.", "com.sun.", "jdk.", "kotlin.", "kotlinx.", "scala.", "org.springframework.",
    "org.hibernate.", "org.apache.", "org.eclipse.", "org.glassfish.", "org.jboss.", "io.undertow.", "io.netty.",
    "reactor.", "io.micrometer.", "com.fasterxml.", "com.google.", "org.junit.", "org.mockito.", "net.bytebuddy.",
    "org.postgresql.", "com.mysql.", "org.mariadb.", "oracle.jdbc.", "com.zaxxer.", "org.slf4j.", "ch.qos.",
    "org.aspectj.", "feign.", "retrofit2.", "okhttp3.", "com.amazonaws.", "software.amazon.", "io.grpc.",
    "org.gradle.", "worker.org.gradle.", "org.testng.", "io.quarkus.", "io.vertx.", "io.micronaut.", "android.",
    "androidx.", "dalvik.", "com.android.", "org.h2.", "liquibase.", "org.flywaydb.", "lombok.",
)  # fmt: skip


def _parse_java(text: str) -> ParsedError | None:
    if not _JAVA_FRAME.search(text):
        return None
    blocks = _JAVA_CAUSED_BY.split(text)
    frames_per_block = [_java_frames(block) for block in blocks]
    root = blocks[-1].splitlines()
    first_frame = next((i for i, line in enumerate(root) if _JAVA_FRAME.match(line)), len(root))
    exception_type, message = _header_before(root, first_frame)
    # A root cause raised inside a library usually has its user frames in an enclosing block ("... 42 more").
    frame = _innermost_user(frames_per_block[::-1], innermost_last=False)
    return ParsedError("java", exception_type, message, frame)


def _java_frames(block: str) -> list[Frame]:
    frames = []
    for match in _JAVA_FRAME.finditer(block):
        method, loc = match["method"], match["loc"]
        file, _, line = loc.partition(":")
        library = method.startswith(_JAVA_LIBRARY_PACKAGES) or "$$" in method or "$Proxy" in method
        library = library or file in ("Native Method", "Unknown Source", "<generated>") or not file
        frames.append(Frame(file, int(line) if line.isdigit() else None, method, not library))
    return frames


# ---------------------------------------------------------------- Go

_GO_FRAME_FILE = re.compile(r"^[ \t]+(?P<file>\S+\.(?:go|s)):(?P<line>\d+)(?: \+0x[0-9a-f]+)?(?: [a-z]+=0x.*)?$", re.M)
# The function, without its arguments: github.com/acme/app/orders.(*Handler).Get(0xc0000a6000, {...})
_GO_FUNCTION = re.compile(r"^(?:created by )?(?P<function>\S+?)(?:\([^()]*\))?(?: in goroutine \d+)?$")
_GO_PANIC = re.compile(r"^(?:.*\bhttp: )?panic(?: serving \S+)?: (?P<value>.*?)(?: \[recovered\])?$", re.M)
_GO_LOG_PREFIX = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? ")
_GO_LIBRARY_FILE = re.compile(
    r"/go/pkg/mod/|/pkg/mod/|@v\d|/vendor/|^/usr/local/go/|^/usr/lib/go|/go/src/runtime/|\$GOROOT|^/opt/homebrew/"
    r"|/libexec/src/|/sdk/go[\d.]*/|^[A-Za-z]:[/\\]Go[/\\]src[/\\]|^/snap/go/"
)
# The first element of a standard library package path has no dot (net/http, encoding/json).
_GO_STD_PACKAGES = frozenset((
    "archive", "bufio", "builtin", "bytes", "cmp", "compress", "container", "context", "crypto", "database", "debug",
    "embed", "encoding", "errors", "expvar", "flag", "fmt", "go", "hash", "html", "image", "index", "internal", "io",
    "iter", "log", "maps", "math", "mime", "net", "os", "path", "plugin", "reflect", "regexp", "runtime", "slices",
    "sort", "strconv", "strings", "sync", "syscall", "testing", "text", "time", "unicode", "unique", "unsafe",
))  # fmt: skip
_GO_ERRORS: tuple[tuple[str, str], ...] = (
    (r"no such file or directory|permission denied|file already exists|is a directory", "*fs.PathError"),
    (r"connection refused|connection reset by peer|i/o timeout|no such host|broken pipe", "*net.OpError"),
    (r"context deadline exceeded", "context.DeadlineExceeded"),
    (r"context canceled", "context.Canceled"),
    (r"sql: no rows in result set", "sql.ErrNoRows"),
    (r"unexpected EOF", "io.ErrUnexpectedEOF"),
    (r"(?:^|: )EOF$", "io.EOF"),
    (r'strconv\.\w+: parsing "', "*strconv.NumError"),
    (r"json: cannot unmarshal", "*json.UnmarshalTypeError"),
    (r"invalid character .* looking for|unexpected end of JSON input", "*json.SyntaxError"),
    (r"x509: certificate", "x509.CertificateInvalidError"),
)


def _parse_go(text: str) -> ParsedError | None:
    lines = text.splitlines()
    frames = _go_first_goroutine(lines)
    head = _go_head(text)
    panic = _GO_PANIC.search(text)
    fatal = re.search(r"^fatal error: (?P<value>.*)$", text, re.M)
    if panic is not None:
        exception_type, message = _go_panic(panic["value"])
    elif fatal is not None:
        exception_type, message = "fatal error", fatal["value"].strip()
    elif frames:  # an error chain printed with %+v (pkg/errors, cockroachdb/errors): message first
        exception_type, message = _go_error_type(head), head
    else:
        return None
    frame = _innermost_user([frames], innermost_last=False)
    return ParsedError("go", exception_type, message, frame)


def _go_head(text: str) -> str:
    """The first line, without the timestamp `log` puts before it."""
    head = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return _GO_LOG_PREFIX.sub("", head)


def _go_panic(value: str) -> tuple[str, str]:
    value = value.strip()
    if value.startswith("runtime error: "):
        return "runtime.Error", value.removeprefix("runtime error: ")
    if value.startswith("interface conversion: "):
        return "*runtime.TypeAssertionError", value
    wrapped = re.match(r"^(?P<type>[\w.*]+)\{.*\}$|^\((?P<paren>[\w.*]+)\) (?P<rest>.*)$", value)
    if wrapped:  # panic(someStruct) or panic(fmt.Errorf(...)) printed as `(*errors.errorString) ...`
        return wrapped["type"] or wrapped["paren"], wrapped["rest"] or value
    return _go_error_type(value) if _go_error_type(value) != "error" else "panic", value


def _go_error_type(message: str) -> str:
    return next((name for pattern, name in _GO_ERRORS if re.search(pattern, message)), "error")


def _go_first_goroutine(lines: Sequence[str]) -> list[Frame]:
    """Frames of the goroutine that panicked (the first listed), innermost first."""
    frames: list[Frame] = []
    in_goroutine = False
    for index, line in enumerate(lines):
        if line.startswith("goroutine "):
            if in_goroutine and frames:
                break
            in_goroutine = True
            continue
        location = _GO_FRAME_FILE.match(line)
        if location is None or index == 0:
            continue
        name = _GO_FUNCTION.match(lines[index - 1].strip())
        function = name["function"] if name else None
        frames.append(Frame(location["file"], int(location["line"]), function, _go_user(location["file"], function)))
    return frames


def _go_user(file: str, function: str | None) -> bool:
    if _GO_LIBRARY_FILE.search(file):
        return False
    if function is None:
        return True
    if "." not in function:  # a builtin: panic, ...
        return False
    path = function.split("(", 1)[0]
    first = path.split("/", 1)[0] if "/" in path else path.split(".", 1)[0]
    return "." in first or first not in _GO_STD_PACKAGES


# ---------------------------------------------------------------- shared


def _innermost_user(blocks: Sequence[Sequence[Frame]], *, innermost_last: bool) -> Frame | None:
    """The innermost user frame of the first block that has one (None when every frame is a library's)."""
    for frames in blocks:
        ordered = list(reversed(frames)) if innermost_last else list(frames)
        for frame in ordered:
            if frame.user_code:
                return frame
    return None


def _header_before(lines: Sequence[str], first_frame: int) -> tuple[str | None, str | None]:
    """The exception line nearest above the first frame (log lines and source excerpts may precede it)."""
    for index in range(first_frame - 1, -1, -1):
        exception_type, message = _header(lines[index], strict=True)
        if exception_type is not None:
            return exception_type, message
    return None, next((line.strip() for line in lines[:first_frame] if line.strip()), None)


_PARSERS: dict[Language, Callable[[str], ParsedError | None]] = {
    "python": _parse_python,
    "javascript": _parse_javascript,
    "java": _parse_java,
    "go": _parse_go,
}
