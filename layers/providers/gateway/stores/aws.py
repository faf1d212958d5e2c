"""The one place the layer makes boto3 clients: one per service per process, made on first use.

boto3 (and botocore) are imported here, lazily, so a request that touches no AWS service, such as
`GET /health`, never pays for them, and a function builds one DynamoDB resource however many tables
it uses (each resource or client loads its service model: tens of milliseconds at a cold start).

Every client comes from boto3's default session, the Secrets Manager client behind the provider keys
included: a session loads botocore's endpoint and partition data and lists its service models once, so a
second session (Powertools' default secrets provider makes its own) would do it all again on the first
request (60-80 ms here). Each is built inside `gateway.core.coldstart.loading()`: what it loads lives as long as
the process.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from gateway.core.coldstart import loading

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_apigateway import APIGatewayClient
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient, DynamoDBServiceResource
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@lru_cache(maxsize=1)
def dynamodb_resource() -> DynamoDBServiceResource:
    """The process's DynamoDB resource (its tables, and batches across tables: `gateway.stores.batch`)."""
    with loading("dynamodb"):
        import boto3

        return boto3.resource("dynamodb", config=aws_config())


@lru_cache(maxsize=32)
def dynamodb_table(name: str) -> Table:
    return dynamodb_resource().Table(name)


class TableStore:
    """A store on one DynamoDB table, whose resource is made on first use: a request that never calls the store (no
    cap, no API key, a write that goes in a batch) builds none, which is most of a cold start's first request."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @property
    def _table(self) -> Table:
        return dynamodb_table(self._table_name)


@lru_cache(maxsize=1)
def dynamodb_client() -> DynamoDBClient:
    """The low-level DynamoDB client, for the calls every answer makes (`gateway.stores.batch`, the cache read).

    The resource's table actions copy and walk every request and answer to convert Python values (about 0.4 ms of
    CPU for a batch of two items); here the caller passes DynamoDB's own typed values (`serialize`). Made from the
    same session as the resource, whose service model it reuses (a few milliseconds at a cold start). Its parameters
    are built here and DynamoDB checks them again, so botocore's own validation of them is skipped."""
    with loading("dynamodb client"):
        import boto3

        return boto3.client("dynamodb", config=aws_config(validate=False))


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's typed form (`{"S": ...}`, `{"N": ...}`), as boto3's resource would send it."""
    from boto3.dynamodb.types import TypeSerializer

    to_wire = TypeSerializer().serialize
    return {name: to_wire(value) for name, value in item.items()}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A typed item back to Python values, as boto3's resource would read it."""
    from boto3.dynamodb.types import TypeDeserializer

    from_wire = TypeDeserializer().deserialize
    return {name: from_wire(value) for name, value in item.items()}


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    with loading("sqs"):
        import boto3

        return boto3.client("sqs", config=aws_config())


@lru_cache(maxsize=1)
def s3_client() -> S3Client:
    with loading("s3"):
        import boto3

        return boto3.client("s3", config=aws_config())


@lru_cache(maxsize=1)
def secrets_provider() -> SecretsProvider:
    """Powertools' Secrets Manager provider (its cache of values included), on the default session's client."""
    with loading("secretsmanager"):
        import boto3
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        return SecretsProvider(boto3_client=boto3.client("secretsmanager", config=aws_config()))


def aws_config(*, validate: bool = True) -> Any:
    """botocore's standard retry mode, 3 attempts at most, unless `AWS_RETRY_MODE` / `AWS_MAX_ATTEMPTS` say
    otherwise: DynamoDB's legacy default is 10 attempts with backoff doubling from 50 ms, up to 25 s of retrying one
    throttled write, far beyond a request's deadline."""
    from botocore.config import Config

    mode = os.environ.get("AWS_RETRY_MODE") or "standard"
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or 3)
    retries: Any = {"mode": mode, "total_max_attempts": attempts}
    return Config(retries=retries, parameter_validation=validate)


def error_code(exc: BaseException) -> str | None:
    """An AWS error's code (`ConditionalCheckFailedException`, ...), without importing botocore to ask."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return str(code) if code else None


@lru_cache(maxsize=1)
def apigateway_client() -> APIGatewayClient:
    """API Gateway's control plane (the REST API's keys and usage plans)."""
    with loading("apigateway"):
        import boto3

        return boto3.client("apigateway")


@lru_cache(maxsize=8)
def management_api_client(endpoint_url: str) -> ApiGatewayManagementApiClient:
    """A WebSocket API's management API (`https://{domain}/{stage}`): post to, read and close connections."""
    with loading("apigatewaymanagementapi"):
        import boto3

        return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url)


def is_conditional_failure(exc: BaseException) -> bool:
    """Whether a DynamoDB write was refused by its condition, and by nothing else.

    A cancelled transaction is a refusal only when a condition cancelled it: one cancelled by a conflict with
    another transaction, or by throttling, says nothing of the condition.
    """
    code = error_code(exc)
    if code == "TransactionCanceledException":
        reasons = {r.get("Code") for r in getattr(exc, "response", {}).get("CancellationReasons") or []}
        return "ConditionalCheckFailed" in reasons and not reasons & {"TransactionConflict", "ThrottlingError"}
    return code == "ConditionalCheckFailedException"


def is_conflict(exc: BaseException) -> bool:
    """A write that met another transaction on its item: worth another try, and botocore never retries it (it does
    retry throttling and server errors itself, within its 3 attempts)."""
    code = error_code(exc)
    if code == "TransactionCanceledException":
        reasons = {r.get("Code") for r in getattr(exc, "response", {}).get("CancellationReasons") or []}
        return "TransactionConflict" in reasons
    return code == "TransactionConflictException"


def retrying[R](
    call: Callable[[], R], attempts: int = 3, base_s: float = 0.02, pause: Callable[[float], None] | None = None
) -> R:
    """`call()`, tried again after a short jittered pause when it meets a conflict (at most `attempts` times)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not is_conflict(exc):
                raise
            (pause or time.sleep)(random.uniform(0, base_s * 2**attempt))
    raise AssertionError("unreachable")


# Error codes of an AWS call that outlasted botocore's retries for a passing reason (throttling, a service's own
# failure): the same request may succeed when sent again.
TRANSIENT_CODES = frozenset({
    "ThrottlingException", "Throttling", "RequestThrottled", "TooManyRequestsException", "RequestLimitExceeded",
    "ProvisionedThroughputExceededException", "InternalServiceError", "InternalServerError", "InternalFailure",
    "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
})  # fmt: skip


def is_transient(exc: BaseException) -> bool:
    """Whether an AWS call failed for a passing reason: throttled, the service's own error, or the network."""
    if error_code(exc) in TRANSIENT_CODES:
        return True
    from botocore.exceptions import ConnectionError, HTTPClientError  # loaded already by any client that raised it

    return isinstance(exc, ConnectionError | HTTPClientError)


def is_aws_error(exc: BaseException) -> bool:
    """Whether an exception is an AWS call's failure (botocore's own or a service's error answer)."""
    from botocore.exceptions import BotoCoreError, ClientError  # loaded already by any client that raised it

    return isinstance(exc, BotoCoreError | ClientError)


def clear_clients() -> None:
    """Forget every client and the secrets provider's cache (tests that start a new moto backend call this)."""
    clients = (
        dynamodb_resource, dynamodb_table, dynamodb_client, sqs_client, s3_client, apigateway_client,
        management_api_client,
    )  # fmt: skip
    for cached in (*clients, secrets_provider):
        cached.cache_clear()


def load_clients() -> None:
    """Make the DynamoDB resource and client and the secrets provider now (their service models loaded; no call
    made)."""
    dynamodb_resource()
    dynamodb_client()
    secrets_provider()


def forget_clients_and_credentials() -> None:
    """After a SnapStart restore: every client (and its pooled connections) and the secrets provider's cache of values
    forgotten, and the default session's resolved credentials dropped, so that the next client resolves them again.
    The session itself is kept: its loader's service models are what makes a new client cheap."""
    clear_clients()
    import boto3

    session = boto3.DEFAULT_SESSION
    if session is not None:  # botocore keeps what it resolved on the session, and offers no public way to drop it
        session._session._credentials = None  # type: ignore[attr-defined]
