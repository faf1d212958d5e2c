"""What the AWS fault injector (`dev.aws_faults`) reads from a request and writes in an error answer.

Dev-only. The error answers are the services' own wire shapes (the JSON 1.0/1.1 protocols that boto3 speaks to
DynamoDB, SQS and Secrets Manager), so botocore parses them, and retries them or not, exactly as it does against
AWS. The shapes come from each service's API reference and botocore's service models:

- DynamoDB, HTTP 400 unless said: `ProvisionedThroughputExceededException` (with `ThrottlingReasons`, a hot
  partition key being `TableWriteKeyRangeThroughputExceeded` / `TableReadKeyRangeThroughputExceeded`),
  `ThrottlingException`, `RequestLimitExceeded`, `TransactionConflictException` ("Transaction is ongoing for the
  item": a plain write on an item a transaction holds), `TransactionCanceledException` with `CancellationReasons`
  in request order (`None` for an item with no error, `TransactionConflict`, `ThrottlingError`), and
  `InternalServerError` (HTTP 500);
- SQS: `RequestThrottled`, `InternalError` (500); Secrets Manager: `ThrottlingException`, `InternalServiceError`
  (500).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DYNAMODB_PREFIX = "com.amazonaws.dynamodb.v20120810#"
JSON_10 = "application/x-amz-json-1.0"
JSON_11 = "application/x-amz-json-1.1"

# Which services the injector understands by their X-Amz-Target prefix, and their content type.
TARGETS = {"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs", "secretsmanager": "secretsmanager"}
CONTENT_TYPES = {"dynamodb": JSON_10, "sqs": JSON_10, "secretsmanager": JSON_11}

# Each service's own code for "throttled" and for "internal error" (and its HTTP status).
THROTTLE = {"dynamodb": "ProvisionedThroughputExceededException", "sqs": "RequestThrottled"}
INTERNAL = {"dynamodb": "InternalServerError", "sqs": "InternalError", "secretsmanager": "InternalServiceError"}
_MESSAGES = {
    "ProvisionedThroughputExceededException": (
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your "
        "provisioning level with the UpdateTable API."
    ),
    "ThrottlingException": "Rate of requests exceeds the allowed throughput.",
    "RequestLimitExceeded": "Throughput exceeds the current throughput limit for your account.",
    "RequestThrottled": "Rate exceeded",
    "TransactionConflictException": "Transaction is ongoing for the item",
    "InternalServerError": "Internal server error",
    "InternalError": "We encountered an internal error. Please try again.",
    "InternalServiceError": "An error occurred on the server side.",
}
_STATUS = {"InternalServerError": 500, "InternalError": 500, "InternalServiceError": 500}

# DynamoDB item operations: what each reads or writes, and whether it is a transaction.
SINGLE_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
SINGLE_READS = frozenset({"GetItem"})
BATCH_READS = frozenset({"BatchGetItem"})
BATCH_WRITES = frozenset({"BatchWriteItem"})
TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})


@dataclass(frozen=True)
class ItemRef:
    """One item a DynamoDB request touches: its table, partition key value and whole key."""

    table: str
    partition: str
    key: str  # the whole key (partition and sort), as canonical JSON
    write: bool
    units: float  # capacity units before the transactional doubling


@dataclass
class AwsCall:
    """A request as the injector sees it."""

    service: str  # dynamodb, sqs, secretsmanager, or "other" (S3 and the rest: passed through untouched)
    operation: str
    items: list[ItemRef] = field(default_factory=list)

    @property
    def transactional(self) -> bool:
        return self.operation in TRANSACTIONS


def error_answer(
    service: str, code: str, message: str | None = None, extra: dict[str, Any] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of a service's error answer with this code."""
    namespace = {"dynamodb": DYNAMODB_PREFIX, "sqs": "com.amazonaws.sqs#"}.get(service, "")
    if code == "ThrottlingException" and service == "dynamodb":
        namespace = "com.amazon.coral.availability#"
    text = message or _MESSAGES.get(code, code)
    # DynamoDB's TransactionCanceledException spells it "Message"; everything else "message".
    body: dict[str, Any] = {"__type": namespace + code, "message": text}
    if code == "TransactionCanceledException":
        body = {"__type": namespace + code, "Message": text}
    body.update(extra or {})
    headers = {"Content-Type": CONTENT_TYPES.get(service, JSON_10), "x-amzn-RequestId": "aws-faults"}
    return _STATUS.get(code, 400), headers, json.dumps(body).encode()


def throttled(service: str, item: ItemRef | None, arn: str) -> tuple[int, dict[str, str], bytes]:
    """A hot key's throttling: DynamoDB names the key range and the table in `ThrottlingReasons`."""
    if service != "dynamodb":
        return error_answer(service, THROTTLE.get(service, "ThrottlingException"))
    kind = "Write" if item is None or item.write else "Read"
    reason = f"Table{kind}KeyRangeThroughputExceeded"
    return error_answer(service, THROTTLE[service], extra={"ThrottlingReasons": [{"reason": reason, "resource": arn}]})


def cancelled(items: list[ItemRef], reasons: dict[int, str]) -> tuple[int, dict[str, str], bytes]:
    """TransactionCanceledException: one reason per item in request order (`None` for the innocent)."""
    listed = []
    for index in range(len(items)):
        code = reasons.get(index, "None")
        entry: dict[str, str] = {"Code": code}
        if code == "TransactionConflict":
            entry["Message"] = "Transaction is ongoing for the item"
        elif code == "ThrottlingError":
            entry["Message"] = "Throughput exceeds the current capacity of your table or index."
        listed.append(entry)
    summary = ", ".join(entry["Code"] for entry in listed)
    message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{summary}]"
    return error_answer("dynamodb", "TransactionCanceledException", message, {"CancellationReasons": listed})


def parse_call(target: str | None, body: bytes, key_names: Any) -> AwsCall:
    """Which service and operation a request is, and for DynamoDB the items it touches.

    `key_names(table)` gives a table's key attribute names, partition key first (asked of moto once per table).
    """
    prefix, _, operation = (target or "").partition(".")
    service = TARGETS.get(prefix, "other")
    call = AwsCall(service, operation or "?")
    if service != "dynamodb":
        return call
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return call
    call.items = list(_items(operation, request, key_names))
    return call


def _items(operation: str, request: dict[str, Any], key_names: Any) -> Any:
    consistent = 1.0 if request.get("ConsistentRead") else 0.5
    if operation in SINGLE_WRITES or operation in SINGLE_READS:
        table = str(request.get("TableName", ""))
        key = request.get("Key") or _key_of(request.get("Item") or {}, key_names(table))
        write = operation in SINGLE_WRITES
        units = _write_units(request) if write else consistent
        yield _ref(table, key, key_names(table), write, units)
    elif operation in BATCH_READS:
        for table, spec in (request.get("RequestItems") or {}).items():
            units = 1.0 if spec.get("ConsistentRead") else 0.5
            for key in spec.get("Keys") or []:
                yield _ref(table, key, key_names(table), False, units)
    elif operation in BATCH_WRITES:
        for table, writes in (request.get("RequestItems") or {}).items():
            for entry in writes:
                put, delete = entry.get("PutRequest"), entry.get("DeleteRequest")
                key = delete["Key"] if delete else _key_of(put["Item"], key_names(table))
                yield _ref(table, key, key_names(table), True, 1.0)
    elif operation == "TransactWriteItems":
        for entry in request.get("TransactItems") or []:
            ((kind, spec),) = entry.items()
            table = str(spec.get("TableName", ""))
            key = spec.get("Key") or _key_of(spec.get("Item") or {}, key_names(table))
            yield _ref(table, key, key_names(table), kind != "ConditionCheck", _write_units(spec))
    elif operation == "TransactGetItems":
        for entry in request.get("TransactItems") or []:
            spec = entry.get("Get") or {}
            table = str(spec.get("TableName", ""))
            yield _ref(table, spec.get("Key") or {}, key_names(table), False, 1.0)


def _key_of(item: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: item[name] for name in names if name in item}


def _ref(table: str, key: dict[str, Any], names: list[str], write: bool, units: float) -> ItemRef:
    partition_name = names[0] if names else next(iter(key), "")
    whole = f"{table}|{json.dumps(key, sort_keys=True)}"
    return ItemRef(table, _scalar(key.get(partition_name)), whole, write, units)


def _scalar(value: Any) -> str:
    """A key attribute's value as text ({"S": "x"} -> "x")."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return json.dumps(value, sort_keys=True)


def _write_units(request: dict[str, Any]) -> float:
    """One write unit per KB of what is written (rounded up), at least one."""
    size = len(json.dumps(request.get("Item") or request.get("ExpressionAttributeValues") or {}))
    return float(max(1, -(-size // 1024)))
