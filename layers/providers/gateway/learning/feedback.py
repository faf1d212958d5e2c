"""Ratings of answers (`POST /v1/feedback`), and what they do to the training dataset.

A rating attaches to the stored interaction of the request it names, and only the API key that made the request may
give it (another key's request is as unknown as one that never was); a second rating replaces the first. Each is
counted for the day per provider (`GET /v1/status` shows the share of positive ones) and measured (`FeedbackScore`,
EMF, by provider and model).

An answer rated down never is a training example: the detector does not queue a rated-down repetition, the consumer
writes none, and an example written before the rating leaves the dataset (moved under `excluded/`, so that a later
rating up can bring it back). An answer rated up is marked in its row (`"feedback": {"score": 1}`). The interaction
item decides: the consumer records the object it wrote (`example_key`) on it unless it was rated down (one
conditional write), and whoever changes the rating or the object then makes the object match the rating as it stands,
reading it again after each change, so that a rating and a write crossing each other still end as the rating says.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from gateway.config.settings import Settings
from gateway.core import clock
from gateway.core.errors import ConfigurationError, StoreUnavailableError
from gateway.observability import logger, metrics, put_metrics_record
from gateway.stores.dataset import DatasetStore
from gateway.stores.interactions import InteractionStore, Rated
from gateway.stores.ratings import RETENTION_S, RatingCountStore

EXCLUDED_PREFIX = "excluded/"  # where a rated-down example goes: out of the dataset, kept for a rating up
INDEX_WAIT_S = (0.1, 0.3, 0.6)  # the request index is eventually consistent: a rating just after the answer waits


@dataclass(frozen=True)
class Rating:
    provider: str
    model: str
    replaced: bool


def rate(settings: Settings, request_id: str, api_key_id: str | None, score: int, comment: str | None) -> Rating | None:
    """Rate the answer of `request_id` as `api_key_id`; None when no answer of that key has that id."""
    if not settings.interactions_table:
        raise ConfigurationError("INTERACTIONS_TABLE is not set: there is no answer to rate")
    store = InteractionStore(settings.interactions_table, settings.interaction_retention_s)
    rated = _rate_first_found(store, request_id, api_key_id, score, comment)
    if rated is None:
        return None
    _count(settings, rated, score)
    put_metrics_record({"provider": rated.provider, "model": rated.model}, [("FeedbackScore", "None", score)], {})
    if rated.example_key is not None and settings.dataset_bucket:
        try:
            apply_rating(store, DatasetStore(settings.dataset_bucket), rated.pk, rated.sk, rated.example_key)
        except Exception as exc:  # the rating is stored; the dataset is not yet as it says
            logger.error("dataset not updated for a rating", extra={"error": f"{type(exc).__name__}: {exc}"})
            message = "the rating is stored, but the dataset could not follow it; send it again"
            raise StoreUnavailableError(message) from exc
    logger.info("answer rated", extra={"provider": rated.provider, "model": rated.model, "score": score,
                                       "replaced": rated.old_score is not None})  # fmt: skip
    return Rating(rated.provider, rated.model, rated.old_score is not None)


def _rate_first_found(
    store: InteractionStore, request_id: str, api_key_id: str | None, score: int, comment: str | None
) -> Rated | None:
    for wait in (0.0, *INDEX_WAIT_S):
        time.sleep(wait)
        found = store.find(request_id)
        for pk, sk in found:  # newest first; a request id a client reused may name other keys' answers too
            rated = store.rate(pk, sk, api_key_id, score, comment, clock.wall())
            if rated is not None:
                return rated
        if found:
            return None  # there, but another key's
    return None


def _count(settings: Settings, rated: Rated, score: int) -> None:
    """Today's counts per provider: this rating in, the one it replaces out (when given today)."""
    if not settings.state_table:
        return
    now = clock.wall()
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    positive, negative = (1, 0) if score > 0 else (0, 1)
    old_day = time.strftime("%Y-%m-%d", time.gmtime(rated.old_rated_at)) if rated.old_rated_at is not None else None
    if rated.old_score is not None and old_day == day:
        positive, negative = (positive - 1, negative) if rated.old_score > 0 else (positive, negative - 1)
    try:
        RatingCountStore(settings.state_table).add(day, rated.provider, positive, negative, int(now) + RETENTION_S)
    except Exception as exc:  # a count for the status page: the rating itself is stored
        logger.warning("rating not counted", extra={"error": type(exc).__name__})
        metrics.add_metric(name="RatingsNotCounted", unit=MetricUnit.Count, value=1)


def apply_rating(store: InteractionStore, dataset: DatasetStore, pk: str, sk: str, key: str, rounds: int = 3) -> None:
    """Make the dataset object made from an interaction show its rating as it stands: out of the dataset when rated
    down, marked when rated up; read again after each change until the rating held still."""
    for _ in range(rounds):
        score = store.rating_state(pk, sk).score
        _show(dataset, key, score)
        if store.rating_state(pk, sk).score == score:
            return
    raise StoreUnavailableError("the rating kept changing while the dataset followed it")


def _show(dataset: DatasetStore, key: str, score: int | None) -> None:
    excluded = EXCLUDED_PREFIX + key
    rows = dataset.get_jsonl(key)
    where = key
    if rows is None:
        rows, where = dataset.get_jsonl(excluded), excluded
    if rows is None:
        return  # nothing written yet (its writer will show the rating) or gone with its retention
    marked = [_marked(row, score) for row in rows]
    target = excluded if score == -1 else key
    if target != where or marked != rows:
        dataset.put_jsonl(target, marked)
    if target != where:
        dataset.delete(where)


def _marked(row: dict[str, Any], score: int | None) -> dict[str, Any]:
    row = {name: value for name, value in row.items() if name != "feedback"}
    return {**row, "feedback": {"score": score}} if score is not None else row
