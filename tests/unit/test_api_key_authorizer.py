"""The REST API's Lambda authorizer, with API Gateway's REQUEST authorizer events (`events/authorizer_*.json`): the
key from `x-api-key` or a bearer token becomes the usage identifier that API Gateway checks against its usage plans."""

from __future__ import annotations

import pytest

from dev.lambda_runtime import LocalLambdaContext, load_handler
from tests.conftest import load_event


def _authorize(event: dict[str, object]) -> dict[str, object]:
    return load_handler("api_key_authorizer")(event, LocalLambdaContext(function_name="api_key_authorizer"))


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({"Authorization": "Bearer sk-bearer-key-0123456789"}, "sk-bearer-key-0123456789"),  # OpenAI clients
        ({"authorization": "bearer  sk-bearer-key-0123456789 "}, "sk-bearer-key-0123456789"),
        ({"x-api-key": "the-header-key-0123456789"}, "the-header-key-0123456789"),  # everything else
        ({"X-Api-Key": "the-header-key-0123456789", "Authorization": "Bearer other"}, "the-header-key-0123456789"),
    ],
)
def test_the_presented_key_is_the_usage_identifier(headers: dict[str, str], key: str) -> None:
    # Given a request to a keyed method with its key in one header or the other
    event = load_event("authorizer_request")
    event["headers"] = headers
    # When the authorizer runs
    answer = _authorize(event)
    # Then API Gateway gets that key to check against its usage plans, and the method is allowed for it
    assert answer["usageIdentifierKey"] == key
    statement = answer["policyDocument"]["Statement"][0]  # type: ignore[index]
    assert statement == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}, None])
def test_a_request_without_a_key_is_unauthorized(headers: dict[str, str] | None) -> None:
    event = load_event("authorizer_request")
    event["headers"] = headers
    # Then the authorizer raises "Unauthorized", which API Gateway answers with 401
    with pytest.raises(PermissionError, match=r"^Unauthorized$"):
        _authorize(event)
