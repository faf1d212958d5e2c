"""Ratings of answers through the real handlers: `POST /v1/feedback` by the key that asked, a second rating replacing
the first, the day's share on `GET /v1/status`, `FeedbackScore`, and what ratings do to the training dataset."""

from __future__ import annotations

from typing import Any

from dev.sqs_poller import SqsPoller
from tests.conftest import Gateway
from tests.control.admin import admin, keyed, route
from tests.observability.capture import Capture
from tests.routing.test_training_dataset import _dataset

KEY_A, KEY_B = "keyAAAA001", "keyBBBB002"
QUESTION = "How do I reverse a list in Python?"


def _rate(gateway: Gateway, key_id: str | None, request_id: str, score: int, **extra: Any) -> Any:
    body = {"request_id": request_id, "score": score, **extra}
    return keyed(gateway, "route", "POST", "/v1/feedback", body, key_id)


def _learn(gateway: Gateway) -> None:
    """What runs after the answers, off their path: the repetition detector, then the training queue's consumer."""
    gateway.detect_repetitions()
    SqsPoller(gateway.resources.names["TrainingQueue"], "training_consumer").drain()


def test_a_rating_attaches_to_its_keys_answer_a_second_replaces_it_and_status_shows_the_days_share(
    cloud: Gateway, captured: Capture
) -> None:
    # Given an answer key A asked for
    answer = route(cloud, "Say hello in one sentence.", KEY_A).body
    request_id, provider, model = answer["request_id"], answer["provider"], answer["model"]
    # When key A rates it up, then down with a comment
    first = _rate(cloud, KEY_A, request_id, 1)
    second = _rate(cloud, KEY_A, request_id, -1, comment="Too vague.")
    # Then the second replaces the first
    assert first.status == 200
    assert first.body == {"request_id": request_id, "score": 1, "provider": provider, "model": model,
                          "replaced": False}  # fmt: skip
    assert (second.status, second.body["replaced"]) == (200, True)
    # And another key cannot rate it, nor can anyone rate an answer that never was
    assert _rate(cloud, KEY_B, request_id, 1).status == 404
    assert _rate(cloud, KEY_A, "no-such-request", 1).body["error"]["code"] == "not_found"
    # And GET /v1/status shows the day's share of positive ratings per provider (the replaced one no longer counts)
    providers = {p["name"]: p for p in admin(cloud, "GET", "/v1/status").body["providers"]}
    assert providers[provider]["ratings_today"] == {"positive": 0, "negative": 1, "positive_share": 0.0}
    assert providers["huggingface"]["ratings_today"] is None
    # And each rating is measured by provider and model (EMF FeedbackScore)
    dimensions = {"provider": provider, "model": model, "service": "ai-gateway"}
    assert captured.read().values("FeedbackScore", **dimensions) == [1, -1]


def test_a_rating_must_be_minus_one_or_one(cloud: Gateway) -> None:
    request_id = route(cloud, "Say hello.", KEY_A).body["request_id"]
    for body in ({"request_id": request_id, "score": 0}, {"request_id": request_id, "score": "1"},
                 {"request_id": request_id}, {"request_id": request_id, "score": 1, "rating": 5}):  # fmt: skip
        assert keyed(cloud, "route", "POST", "/v1/feedback", body, KEY_A).status == 422, body


def test_a_repetition_rated_down_makes_no_example_and_one_rated_up_is_marked(cloud: Gateway) -> None:
    # Given a question asked once, then repeated, the repetition rated down before the detector saw it
    route(cloud, QUESTION, KEY_A)
    down = route(cloud, QUESTION, KEY_A).body["request_id"]
    assert _rate(cloud, KEY_A, down, -1).status == 200
    # When the detector and the training consumer have run
    _learn(cloud)
    # Then the rated-down repetition made no example
    assert _dataset(cloud) == {}
    # When it is asked again and that answer is rated up (before the example is written)
    up = route(cloud, QUESTION, KEY_A).body["request_id"]
    assert _rate(cloud, KEY_A, up, 1).status == 200
    _learn(cloud)
    # Then its example is in the dataset, marked as rated up
    ((key, rows),) = _dataset(cloud).items()
    assert key.startswith("training/topic=coding/")
    assert rows[0]["messages"][0]["content"] == QUESTION
    assert rows[0]["feedback"] == {"score": 1}


def test_an_example_rated_down_after_it_was_written_leaves_the_dataset_and_a_rating_up_brings_it_back(
    cloud: Gateway,
) -> None:
    # Given an example written from a repetition nobody rated
    route(cloud, QUESTION, KEY_A)
    repeated = route(cloud, QUESTION, KEY_A).body["request_id"]
    _learn(cloud)
    ((key, rows),) = _dataset(cloud).items()
    assert "feedback" not in rows[0]
    # When its answer is rated down
    assert _rate(cloud, KEY_A, repeated, -1).status == 200
    # Then it is no longer in the dataset (kept aside, out of it)
    assert set(_dataset(cloud)) == {f"excluded/{key}"}
    # And rated up again, it is back, marked
    assert _rate(cloud, KEY_A, repeated, 1).status == 200
    dataset = _dataset(cloud)
    assert set(dataset) == {key}
    assert dataset[key][0]["feedback"] == {"score": 1}
