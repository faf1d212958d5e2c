"""Stack traces of the four languages: the exception and the innermost frame of the user's own code."""

from __future__ import annotations

import pytest

from gateway.analysis.stacktraces import parse_error
from tests.error_analysis.traces import GO, JAVA, JAVASCRIPT, PYTHON, TRACES, Trace


def test_the_table_covers_every_language_with_enough_traces() -> None:
    assert len(TRACES) >= 30
    assert all(len(group) >= 7 for group in (PYTHON, JAVASCRIPT, JAVA, GO))


@pytest.mark.parametrize("trace", TRACES, ids=lambda t: f"{t.language}-{t.name}")
def test_a_trace_gives_its_exception_and_innermost_user_frame(trace: Trace) -> None:
    # Given a stack trace as the runtime printed it (and the language a client may name)
    # When it is parsed
    parsed = parse_error(trace.text, trace.hint)
    # Then its language, exception and the innermost frame of the user's code are found
    assert parsed.language == trace.language
    assert parsed.exception_type == trace.exception_type
    assert (parsed.message or "").startswith(trace.message_starts)
    if trace.file is None:
        assert parsed.frame is None
    else:
        assert parsed.frame is not None
        assert (parsed.frame.file, parsed.frame.line, parsed.frame.function) == (trace.file, trace.line, trace.function)


# Without frames, only the client's hint says which language an error is in.
@pytest.mark.parametrize("trace", [t for t in TRACES if t.file], ids=lambda t: f"{t.language}-{t.name}")
def test_the_language_is_recognised_without_a_hint(trace: Trace) -> None:
    # Given a trace with frames and no language named
    # When parsed, then the same frame is found
    parsed = parse_error(trace.text)
    assert parsed.language == trace.language
    assert parsed.frame is not None
    assert parsed.frame.file == trace.file


def test_a_trace_of_library_frames_only_names_no_user_frame() -> None:
    # Given a Java trace that never reaches the user's code
    text = """java.net.SocketTimeoutException: Read timed out
	at java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)
	at org.postgresql.core.VisibleBufferedInputStream.read(VisibleBufferedInputStream.java:161)"""
    parsed = parse_error(text)
    # Then the exception is read, and no library frame is passed off as the user's
    assert parsed.exception_type == "java.net.SocketTimeoutException"
    assert parsed.frame is None


def test_a_bare_message_gives_its_type_when_it_has_one() -> None:
    assert parse_error("KeyError: 'user_id'").exception_type == "KeyError"
    bare = parse_error("Segmentation fault (core dumped)")
    assert (bare.exception_type, bare.message, bare.frame) == (None, "Segmentation fault (core dumped)", None)
