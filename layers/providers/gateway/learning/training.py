"""Training examples: made from repeated questions, queued, and written once each to the S3 dataset.

The dataset is JSONL under `<DATASET_PREFIX>/topic=<topic>/date=<YYYY-MM-DD>/<example id>.jsonl`, one
object per example: the key depends only on the example, so a redelivered message rewrites the same
object, and Powertools idempotency keyed on the example id skips examples already written (a
question repeated on another day included). With `HF_DATASET_REPO` set, each new example is also
committed to that Hugging Face dataset repository at the same relative path.

The rating of the answer it was made from decides (`gateway.learning.feedback`): rated down, no example is written;
rated up, its row is marked. The object is recorded on the interaction, so that a rating given later reaches it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.config.keys import load_provider_keys
from gateway.config.settings import Settings, get_settings
from gateway.core.errors import ConfigurationError
from gateway.learning.feedback import apply_rating
from gateway.learning.training_example import TrainingExample
from gateway.observability import logger, metrics
from gateway.providers.huggingface import commit_dataset_file
from gateway.stores.dataset import DatasetStore
from gateway.stores.idempotency import once_per_key
from gateway.stores.interactions import InteractionStore


def write_example(example: TrainingExample, settings: Settings) -> str | None:
    """Write one example to S3 (and the Hugging Face dataset repository when configured); its S3 key, or None when
    the answer it was made from is rated down."""
    if not settings.dataset_bucket:
        raise ConfigurationError("DATASET_BUCKET is not set: training examples have nowhere to go")
    key = f"{settings.dataset_prefix}/{example.relative_path()}"
    dataset = DatasetStore(settings.dataset_bucket)
    source = _source(example, settings)
    score = source[0].rating_state(*source[1]).score if source is not None else None
    if score == -1:
        logger.info("training example rated down: not written", extra={"example_id": example.example_id})
        metrics.add_metric(name="TrainingExamplesRatedDown", unit=MetricUnit.Count, value=1)
        return None
    row = example.row()
    dataset.put_jsonl(key, [{**row, "feedback": {"score": score}} if score is not None else row])
    if source is not None:
        store, (pk, sk) = source
        store.claim_example(pk, sk, key)  # refused when rated down meanwhile: then the object leaves the dataset
        apply_rating(store, dataset, pk, sk, key)
        if store.rating_state(pk, sk).score == -1:
            return None
    if settings.hf_dataset_repo:
        token = load_provider_keys(settings).get("huggingface")
        if not token:
            raise ConfigurationError("HF_DATASET_REPO is set but no Hugging Face token is configured")
        row = example.row()
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode()
        path = f"data/{example.relative_path()}"
        commit_dataset_file(settings.hf_dataset_repo, token, path, data, f"Add training example {row['id']}")
    return key


def _source(example: TrainingExample, settings: Settings) -> tuple[InteractionStore, tuple[str, str]] | None:
    if example.source_pk is None or example.source_sk is None or not settings.interactions_table:
        return None
    store = InteractionStore(settings.interactions_table, settings.interaction_retention_s)
    return store, (example.source_pk, example.source_sk)


def _write_once(example: dict[str, Any]) -> dict[str, str]:
    key = write_example(TrainingExample.model_validate(example), get_settings())
    if key is None:
        return {"skipped": "rated down"}
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
