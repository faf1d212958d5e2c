"""Training examples: made from repeated questions, queued, and written once each to the S3 dataset.

The dataset is JSONL under `<DATASET_PREFIX>/topic=<topic>/date=<YYYY-MM-DD>/<example id>.jsonl`, one
object per example: the key depends only on the example, so a redelivered message rewrites the same
object, and Powertools idempotency keyed on the example id skips examples already written (a
question repeated on another day included). With `HF_DATASET_REPO` set, each new example is also
committed to that Hugging Face dataset repository at the same relative path.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from gateway.errors import ConfigurationError
from gateway.observability import logger, metrics
from gateway.providers.base import short
from gateway.settings import Settings, get_settings
from gateway.stores.dataset import DatasetStore
from gateway.stores.idempotency import once_per_key
from gateway.stores.secrets import load_provider_keys
from gateway.training_example import TrainingExample

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def write_example(example: TrainingExample, settings: Settings) -> str:
    """Write one example to S3 (and the Hugging Face dataset repository when configured); its S3 key."""
    if not settings.dataset_bucket:
        raise ConfigurationError("DATASET_BUCKET is not set: training examples have nowhere to go")
    key = f"{settings.dataset_prefix}/{example.relative_path()}"
    DatasetStore(settings.dataset_bucket).put_jsonl(key, [example.row()])
    if settings.hf_dataset_repo:
        token = load_provider_keys(settings).huggingface
        if not token:
            raise ConfigurationError("HF_DATASET_REPO is set but no Hugging Face token is configured")
        push_to_hub(settings.hf_dataset_repo, token, f"data/{example.relative_path()}", example.row())
    return key


def push_to_hub(repo_id: str, token: str, path_in_repo: str, row: dict[str, Any]) -> None:
    """Commit one JSONL file to a Hugging Face dataset repository with `HfApi`."""
    from huggingface_hub import CommitOperationAdd, HfApi

    data = (json.dumps(row, ensure_ascii=False) + "\n").encode()
    HfApi(token=token).create_commit(
        repo_id=repo_id,
        repo_type="dataset",
        operations=[CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=data)],
        commit_message=f"Add training example {row['id']}",
    )


def _write_once(example: dict[str, Any]) -> dict[str, str]:
    key = write_example(TrainingExample.model_validate(example), get_settings())
    metrics.add_metric(name="TrainingExamplesWritten", unit=MetricUnit.Count, value=1)
    logger.info("training example written", extra={"example_id": example["example_id"], "key": key})
    return {"key": key}


def record_example(record: SQSRecord, context: LambdaContext | None) -> dict[str, str]:
    """Write the record's example unless an earlier delivery already did (Powertools idempotency)."""
    settings = get_settings()
    if not settings.idempotency_table:
        raise ConfigurationError("IDEMPOTENCY_TABLE is not set: duplicate examples could not be told apart")
    example = TrainingExample.model_validate_json(record.body)
    # Examples are deduplicated for as long as the repetitions that make them can be detected.
    write = once_per_key(
        _write_once,
        data_keyword="example",
        key_field="example_id",
        purpose="training-example",
        table_name=settings.idempotency_table,
        expires_after_s=settings.interaction_retention_s,
        context=context,
    )
    result: dict[str, str] = write(example=example.model_dump(mode="json"))
    return result


def handle_training_batch(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Write a batch of examples; failures are reported per message (ReportBatchItemFailures)."""

    def record_handler(record: SQSRecord) -> dict[str, str]:
        try:
            return record_example(record, context)
        except Exception as exc:  # reported for redelivery; said here, since the batch processor is silent
            error = type(exc).__name__ if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {short(exc)}"
            logger.warning("training example failed", extra={"message_id": record.message_id, "error": error})
            raise

    metrics.add_metric(name="TrainingExamplesReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    failures = len(result.get("batchItemFailures", []))
    if failures:
        metrics.add_metric(name="TrainingExamplesFailed", unit=MetricUnit.Count, value=failures)
    return dict(result)
