"""dev.aws_stack provisions, in moto, exactly what template.yaml declares."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dev.aws_stack import (
    PROVISIONED_TYPES,
    StackResources,
    load_template,
    provision,
    referenced_variables,
    resources_of_type,
    start_moto_server,
)

pytestmark = pytest.mark.integration  # moto in-process, and a moto server

REGION = "us-east-1"


def _dummy_aws_env(mp: pytest.MonkeyPatch) -> None:
    """Dummy credentials and region; never a real profile or endpoint."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        mp.delenv(name, raising=False)
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    _dummy_aws_env(monkeypatch)


@pytest.fixture
def mocked_aws(aws_env: None) -> Iterator[None]:
    """A fresh, empty moto account for one test."""
    with mock_aws():
        yield


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="class")
def stack() -> Iterator[StackResources]:
    """One stack, provisioned once per class, for the tests that only read it (or use their own messages)."""
    with pytest.MonkeyPatch.context() as mp:
        _dummy_aws_env(mp)
        with mock_aws():
            yield provision()


class TestProvisionedStack:
    """Read-only checks against one stack provisioned in a fresh moto account."""

    def test_tables_match_the_template(self, stack: StackResources, template: dict[str, Any]) -> None:
        # Given the provisioned stack
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        declared = resources_of_type(template, "AWS::DynamoDB::Table")
        for logical_id, name in (("ProviderStateTable", stack.state_table), ("JobsTable", stack.jobs_table)):
            # When describing each table
            table = dynamodb.describe_table(TableName=name)["Table"]
            ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            props = declared[logical_id]["Properties"]
            # Then its keys, billing and TTL are the template's
            assert table["KeySchema"] == props["KeySchema"]
            assert sorted(table["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
            assert ttl == {
                "TimeToLiveStatus": "ENABLED",
                "AttributeName": props["TimeToLiveSpecification"]["AttributeName"],
            }

    def test_route_queue_redrives_to_the_provisioned_dlq(self, stack: StackResources, template: dict[str, Any]) -> None:
        # Given the provisioned queues
        sqs = boto3.client("sqs", region_name=REGION)
        attrs = sqs.get_queue_attributes(QueueUrl=stack.route_jobs_queue_url, AttributeNames=["All"])["Attributes"]
        dlq_attrs = sqs.get_queue_attributes(QueueUrl=stack.route_jobs_dlq_url, AttributeNames=["All"])["Attributes"]
        declared = template["Resources"]["RouteJobsQueue"]["Properties"]
        # Then the route queue's redrive policy names the DLQ with the template's receive count
        redrive = json.loads(attrs["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq_attrs["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == declared["RedrivePolicy"]["maxReceiveCount"]
        # And visibility timeout and retention are the template's
        assert int(attrs["VisibilityTimeout"]) == declared["VisibilityTimeout"]
        dlq_declared = template["Resources"]["RouteJobsDeadLetterQueue"]["Properties"]
        assert int(dlq_attrs["MessageRetentionPeriod"]) == dlq_declared["MessageRetentionPeriod"]

    def test_a_message_that_keeps_failing_ends_up_in_the_dlq(
        self, stack: StackResources, template: dict[str, Any]
    ) -> None:
        # Given a route job on the queue
        sqs = boto3.client("sqs", region_name=REGION)
        sqs.send_message(QueueUrl=stack.route_jobs_queue_url, MessageBody='{"job_id": "j-1"}')
        max_receives = template["Resources"]["RouteJobsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
        # When a consumer receives it maxReceiveCount times without deleting it
        for _ in range(max_receives):
            got = sqs.receive_message(QueueUrl=stack.route_jobs_queue_url, VisibilityTimeout=0)
            assert len(got.get("Messages", [])) == 1
        # Then the next receive finds it moved to the dead-letter queue
        assert sqs.receive_message(QueueUrl=stack.route_jobs_queue_url, VisibilityTimeout=0).get("Messages", []) == []
        dead = sqs.receive_message(QueueUrl=stack.route_jobs_dlq_url)["Messages"]
        assert [json.loads(m["Body"]) for m in dead] == [{"job_id": "j-1"}]

    def test_secret_holds_the_placeholder_keys(self, stack: StackResources) -> None:
        # When reading the provisioned secret
        value = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=stack.secret_name)
        # Then it is the template's JSON with the three provider keys, all empty
        assert json.loads(value["SecretString"]) == {
            "GEMINI_API_KEY": "",
            "HUGGINGFACE_API_KEY": "",
            "SLM_AUTH_BEARER": "",
        }

    def test_environment_names_the_provisioned_resources(self, stack: StackResources, template: dict[str, Any]) -> None:
        # Every variable the template sets with !Ref to a provisioned resource, with its local name
        expected = {
            var: stack.names[logical_id]
            for var, logical_id in referenced_variables(template).items()
            if template["Resources"].get(logical_id, {}).get("Type") in PROVISIONED_TYPES
        }
        assert stack.environment() == expected
        assert expected["PROVIDER_SECRET_NAME"] == stack.secret_name
        assert expected["PROVIDER_STATE_TABLE"] == stack.state_table
        assert expected["JOBS_TABLE"] == stack.jobs_table
        assert expected["ROUTE_JOBS_QUEUE_URL"] == stack.route_jobs_queue_url


def test_secret_values_are_stored_as_given(mocked_aws: None) -> None:
    # Given secret values for the local stack
    values = {"GEMINI_API_KEY": "g-key", "HUGGINGFACE_API_KEY": "hf-key", "SLM_AUTH_BEARER": "b"}
    # When provisioning with them
    stack = provision(secret_values=values, prefix="it")
    # Then the secret holds exactly them, under the prefixed name
    value = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=stack.secret_name)
    assert json.loads(value["SecretString"]) == values
    assert stack.secret_name.startswith("it-")


def test_provision_is_idempotent(mocked_aws: None) -> None:
    # Given a provisioned stack
    stack = provision()
    # When provisioning again into the same account, with new secret values
    again = provision(secret_values={"GEMINI_API_KEY": "new"})
    # Then the same resources are reused and the secret is updated
    assert again == stack
    value = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=stack.secret_name)
    assert json.loads(value["SecretString"]) == {"GEMINI_API_KEY": "new"}
    tables = resources_of_type(load_template(), "AWS::DynamoDB::Table")
    assert len(boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]) == len(tables)


def test_everything_is_derived_from_the_template(mocked_aws: None, template: dict[str, Any]) -> None:
    # Given a template with a different key schema and an extra named queue
    changed = copy.deepcopy(template)
    jobs = changed["Resources"]["JobsTable"]["Properties"]
    jobs["AttributeDefinitions"] = [
        {"AttributeName": "tenant", "AttributeType": "S"},
        {"AttributeName": "created", "AttributeType": "N"},
    ]
    jobs["KeySchema"] = [
        {"AttributeName": "tenant", "KeyType": "HASH"},
        {"AttributeName": "created", "KeyType": "RANGE"},
    ]
    changed["Resources"]["ExtraQueue"] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-extra"}, "DelaySeconds": 5},
    }
    # When provisioning it
    stack = provision(template=changed, prefix="drift")
    # Then the table has the new keys and the extra queue exists with its attributes
    table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=stack.jobs_table)["Table"]
    assert table["KeySchema"] == jobs["KeySchema"]
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="drift-extra")["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]["DelaySeconds"] == "5"


def test_provision_against_a_moto_server(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a moto server, named by AWS_ENDPOINT_URL
    server, url = start_moto_server()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        # When provisioning through it
        stack = provision(prefix="srv")
        # Then the resources live in that server
        assert stack.route_jobs_queue_url.startswith(url)
        tables = boto3.client("dynamodb", region_name=REGION, endpoint_url=url).list_tables()["TableNames"]
        declared = resources_of_type(load_template(), "AWS::DynamoDB::Table")
        assert sorted(tables) == sorted(stack.names[logical_id] for logical_id in declared)
    finally:
        server.stop()
