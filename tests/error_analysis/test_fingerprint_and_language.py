"""What an error is (its fingerprint, for the cache) and which language its analysis is written in."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.analysis.fingerprints import language_of_text, normalise_message
from gateway.endpoints.error_analysis import ErrorRequest, prepare
from tests.error_analysis.secrets import AWS_ID

GO_PANIC = """panic: runtime error: index out of range [{index}] with length {length}

goroutine 1 [running]:
main.pick(...)
	/srv/picker/main.go:12
main.main()
	/srv/picker/main.go:7 +0x1d"""


def _request(message: str, **fields: Any) -> ErrorRequest:
    error = {"message": message, **fields.pop("error", {})}
    return ErrorRequest.model_validate({"error": error, **fields})


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("request 8812 timed out after 30.5 s", "request 17 timed out after 2 s"),
        (
            "order 3f2b9c1e-8a4d-4f6b-9c2e-7d1a5b3c8e9f not found",
            "order 00000000-0000-4000-8000-000000000000 not found",
        ),
        ("<object at 0x7f3b2c1d0a90> is not callable", "<object at 0x10fe2a3b0> is not callable"),
        ("No such file: '/tmp/upload_81532.csv'", "No such file: '/tmp/upload_7701.csv'"),
        ("commit 9b2a7c1d0e8f6a5b failed", "commit a1b2c3d4e5f60718 failed"),
    ],
)
def test_numbers_and_ids_do_not_change_what_an_error_is(first: str, second: str) -> None:
    assert normalise_message(first) == normalise_message(second)


def test_quoted_personal_data_changes_the_fingerprint_so_no_client_gets_anothers_analysis() -> None:
    # Given the same error about two customers' data
    jane = normalise_message("invalid customer 'Jane Doe, Rue de Rivoli'")
    bob = normalise_message("invalid customer 'Bob Stone, Elm Street'")
    # Then they are different errors for the cache: an analysis quoting Jane's data never reaches Bob
    assert jane != bob


def test_a_quoted_name_does_change_what_an_error_is() -> None:
    # 'map' and 'length' name different bugs; they are identifiers, not data
    assert normalise_message("Cannot read properties of undefined (reading 'map')") != normalise_message(
        "Cannot read properties of undefined (reading 'length')"
    )


def test_the_same_panic_with_other_numbers_has_the_same_fingerprint_and_cache_key() -> None:
    # Given the same panic at the same line, with other index and length
    one = prepare(_request("index out of range", error={"stack": GO_PANIC.format(index=5, length=3)}), [])
    two = prepare(_request("index out of range", error={"stack": GO_PANIC.format(index=9, length=4)}), [])
    # Then it is one error, answered once
    assert one.fingerprint == two.fingerprint
    assert one.cache_key == two.cache_key


def test_another_frame_another_type_or_another_answer_is_another_cache_entry() -> None:
    base = prepare(_request("x", error={"stack": GO_PANIC.format(index=5, length=3)}), [])
    moved = prepare(_request("x", error={"stack": GO_PANIC.format(index=5, length=3).replace(":12", ":13")}), [])
    other_type = prepare(_request("KeyError: 'id'"), [])
    other_type_too = prepare(_request("IndexError: 'id'"), [])
    in_spanish = prepare(_request("x", error={"stack": GO_PANIC.format(index=5, length=3)}, language="es"), [])
    with_code = prepare(_request("x", error={"stack": GO_PANIC.format(index=5, length=3), "code": "xs[i]"}), [])
    # A new line is a new place in the code; the answer's language and the code change the answer
    assert moved.fingerprint != base.fingerprint
    assert other_type.fingerprint != other_type_too.fingerprint
    assert in_spanish.fingerprint == base.fingerprint
    assert len({base.cache_key, in_spanish.cache_key, with_code.cache_key}) == 3


def test_everything_prepared_for_a_provider_is_redacted() -> None:
    # Given a secret in every field a client can send
    request = _request(
        f"auth failed for {AWS_ID}",
        error={"type": "AuthError", "stack": f"at x ({AWS_ID})", "code": f"key = '{AWS_ID}'"},
        context={"note": f"key {AWS_ID}", "password": "pw-1234"},
    )
    prepared = prepare(request, [])
    # Then it is nowhere in what is prepared, and every occurrence is counted
    assert AWS_ID not in prepared.model_dump_json()
    assert prepared.redactions.kinds == {"aws_access_key": 4, "password": 1}


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("ERROR: la relación «users» no existe", "es"),
        ("El pedido no se pudo guardar porque el cliente no existe", "es"),
        ("FEHLER: doppelter Schlüsselwert verletzt Unique-Constraint »users_email_key«", "de"),
        ("Le fichier de configuration est introuvable", "fr"),
        ("Le fichier n'existe pas dans l'archive", "fr"),
        ("Errore: impossibile trovare il file di configurazione", "it"),
        ("Erro: não foi possível conectar ao banco de dados", "pt"),
        ("Ошибка: не удалось подключиться к базе данных", "ru"),
        ("无法连接到数据库", "zh"),
        ("接続がタイムアウトしました", "ja"),
        ("데이터베이스에 연결할 수 없습니다", "ko"),
        ("فشل الاتصال بقاعدة البيانات", "ar"),
        ("डेटाबेस से कनेक्ट नहीं हो सका", "hi"),
        ("TypeError: Cannot read properties of undefined (reading 'map')", "en"),
    ],
)
def test_the_language_of_an_error_message_is_detected(message: str, language: str) -> None:
    assert language_of_text(message) == language


@pytest.mark.parametrize("message", ["KeyError: 'user_id'", "Segmentation fault", "SIGSEGV 0x0000000000000000"])
def test_a_message_of_only_code_points_nowhere(message: str) -> None:
    assert language_of_text(message) in (None, "en")


def test_the_answer_language_is_the_requested_one_else_the_detected_one_else_english() -> None:
    asked = prepare(_request("KeyError: 'user_id'", language="pt-BR"), [])
    detected = prepare(_request("ERROR: la relación «users» no existe"), [])
    default = prepare(_request("KeyError: 'user_id'"), [])
    assert (asked.answer_language, asked.answer_language_source) == ("pt", "requested")
    assert (detected.answer_language, detected.answer_language_source) == ("es", "detected")
    assert default.answer_language == "en"


@pytest.mark.parametrize("code", ["xx", "klingon", "e", ""])
def test_an_unknown_answer_language_is_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="language"):
        _request("boom", language=code)


@pytest.mark.parametrize(
    "unit",
    [
        "a.",
        "sk-",
        "a$",
        "a@",
        ":1",
        "0x",
        "/home/",
        "'\"",
        "at f (",
        "password=",
        "4111 ",
        "-----BEGIN PRIVATE KEY-----",
    ],
)
def test_a_hostile_input_is_prepared_in_linear_time(unit: str) -> None:
    # Given 20 kB of a repeated pattern that makes a careless regex backtrack (quadratic: minutes)
    text = (unit * (20000 // len(unit)))[:20000]
    request = _request(text, error={"stack": text, "code": text})
    # When it is redacted, parsed, fingerprinted and its language guessed
    started = time.perf_counter()
    prepare(request, [])
    # Then it takes a fraction of a second
    assert time.perf_counter() - started < 1.5
