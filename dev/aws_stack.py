"""Provision the stateful resources that ``template.yaml`` declares, in moto, through boto3.

Tests and the local stack get the same tables, queues and secret as AWS, because everything is read
from the template (key schemas, TTL, queue attributes, redrive policy, the secret's placeholder
keys) rather than written down twice. Works against moto's in-process ``mock_aws`` or, when
``AWS_ENDPOINT_URL`` is set, against a ``ThreadedMotoServer`` (see :func:`start_moto_server`).

The REST API is provisioned too, for its keys: the API itself (no routes: the local API serves them), its usage
plans (the one SAM makes from ``Auth.UsagePlan`` and the template's own) and their keys, whose values are
``local-<LogicalId>`` (AWS generates them; locally they are known, so clients and events can carry them).

Dev-only: this module is not part of the Lambda layer.

``python -m dev.aws_stack`` starts a moto server, provisions the stack in it, prints the
environment to export, and keeps serving until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import json
import logging
import os
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.loaders
import botocore.session
import yaml

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer
    from mypy_boto3_apigateway import APIGatewayClient
    from mypy_boto3_apigateway.type_defs import ApiStageTypeDef
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ServerSideEncryptionConfigurationTypeDef, ServerSideEncryptionRuleTypeDef
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account

TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
SECRET_TYPE = "AWS::SecretsManager::Secret"
BUCKET_TYPE = "AWS::S3::Bucket"
REST_API_TYPE = "AWS::Serverless::Api"
API_KEY_TYPE = "AWS::ApiGateway::ApiKey"
USAGE_PLAN_TYPE = "AWS::ApiGateway::UsagePlan"
USAGE_PLAN_KEY_TYPE = "AWS::ApiGateway::UsagePlanKey"
PROVISIONED_TYPES = frozenset(
    {
        SECRET_TYPE,
        TABLE_TYPE,
        QUEUE_TYPE,
        BUCKET_TYPE,
        REST_API_TYPE,
        API_KEY_TYPE,
        USAGE_PLAN_TYPE,
        USAGE_PLAN_KEY_TYPE,
    }
)

# Logical ids in template.yaml that StackResources exposes by name.
SECRET_ID = "ProviderSecret"
STATE_TABLE_ID = "ProviderStateTable"
JOBS_TABLE_ID = "JobsTable"
ROUTE_JOBS_QUEUE_ID = "RouteJobsQueue"
ROUTE_JOBS_DLQ_ID = "RouteJobsDeadLetterQueue"

Template = dict[str, Any]


# --------------------------------------------------------------------------- template loading


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation short-form tags (``!Ref``, ``!GetAtt``, ...).

    Each tag becomes its long (JSON) form: ``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` ->
    ``{"Fn::GetAtt": ["A", "B"]}``, ``!Condition C`` -> ``{"Condition": "C"}``, and any other
    ``!Name v`` -> ``{"Fn::Name": v}`` (``!Sub``, ``!If``, ``!Join``, ``!Select``, ...).
    """


def _construct_cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{tag_suffix}", node.start_mark)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_cfn_tag)


_parsed_templates: dict[tuple[Path, int], Template] = {}


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    """Parse a CloudFormation/SAM template (YAML, short-form tags allowed) into plain data.

    Parsed once per version of the file (pure-Python YAML takes a fifth of a second on this template,
    and every test provisions); each caller gets its own copy.
    """
    key = (path.resolve(), path.stat().st_mtime_ns)
    if key not in _parsed_templates:
        with path.open(encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=CloudFormationLoader)  # a SafeLoader subclass
        if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
            raise ValueError(f"{path} is not a CloudFormation template (no Resources mapping)")
        _parsed_templates[key] = data
    return copy.deepcopy(_parsed_templates[key])


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id, in declaration order."""
    resources: Mapping[str, Any] = template["Resources"]
    return {lid: res for lid, res in resources.items() if res.get("Type") == resource_type}


# --------------------------------------------------------------------------- intrinsic functions


class _Resolver:
    """Resolves the few intrinsic functions the provisioned resources' properties use.

    Parameters resolve to their defaults, pseudo parameters to local values, and ``Ref`` /
    ``Fn::GetAtt`` of an already provisioned resource to what boto3 returned for it.
    """

    def __init__(self, template: Mapping[str, Any], *, region: str, stack_name: str) -> None:
        self.parameters: dict[str, Any] = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        self.pseudo: dict[str, str] = {
            "AWS::Region": region,
            "AWS::AccountId": DEFAULT_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
        }
        self.refs: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.parameters:
            if self.parameters[name] is None:
                raise ValueError(f"parameter {name} has no Default; cannot resolve it locally")
            return self.parameters[name]
        raise ValueError(f"cannot resolve Ref {name!r}: not a parameter or a provisioned resource")

    def get_att(self, resource: str, attribute: str) -> str:
        try:
            return self.attributes[(resource, attribute)]
        except KeyError:
            raise ValueError(f"cannot resolve Fn::GetAtt {resource}.{attribute}") from None

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                resource, _, attribute = name.partition(".")
                return self.get_att(resource, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                resource, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(resource, attribute)
            if key == "Fn::Sub":
                if isinstance(arg, list):
                    return self._sub(arg[0], arg[1])
                return self._sub(arg, {})
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(item) for item in self.resolve(items))
            if key.startswith("Fn::") or key == "Condition":
                raise ValueError(f"intrinsic function {key} is not supported by dev.aws_stack")
        return {key: self.resolve(item) for key, item in value.items()}


def _references(value: Any) -> set[str]:
    """Logical ids (or parameter names) a property value refers to through Ref/GetAtt/Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                found |= {name.split(".", 1)[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", str(text))}
                if isinstance(arg, list):
                    found |= _references(arg[1])
            else:
                found |= _references(arg)
    return found


def _creation_order(template: Mapping[str, Any]) -> list[str]:
    """Provisioned resources' logical ids, each after the provisioned resources it refers to."""
    provisioned = {lid: res for lid, res in template["Resources"].items() if res.get("Type") in PROVISIONED_TYPES}
    deps = {lid: _references(res.get("Properties", {})) & provisioned.keys() for lid, res in provisioned.items()}
    order: list[str] = []
    while deps:
        ready = [lid for lid, needs in deps.items() if needs <= set(order)]
        if not ready:
            raise ValueError(f"circular references between {sorted(deps)}")
        for lid in ready:
            order.append(lid)
            del deps[lid]
    return order


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class StackResources:
    """Physical names of the provisioned resources, and the environment the template derives from them."""

    secret_name: str
    state_table: str
    jobs_table: str
    route_jobs_queue_url: str
    route_jobs_dlq_url: str
    names: Mapping[str, str] = field(default_factory=dict)  # every provisioned logical id -> name or URL
    variables: Mapping[str, str] = field(default_factory=dict)  # env var -> logical id it references
    api_keys: Mapping[str, str] = field(default_factory=dict)  # the REST API's keys: logical id -> value

    def environment(self) -> dict[str, str]:
        """The environment variables template.yaml sets with `!Ref` to provisioned resources.

        Read from the template (Globals and every function), so a table or queue added there reaches
        the local stack and the tests without being named twice.
        """
        return {var: self.names[logical_id] for var, logical_id in self.variables.items() if logical_id in self.names}


def referenced_variables(template: Mapping[str, Any]) -> dict[str, str]:
    """Every environment variable in the template whose value is `!Ref <LogicalId>`."""
    blocks = [template.get("Globals", {}).get("Function", {})]
    blocks += [f.get("Properties", {}) for f in resources_of_type(template, "AWS::Serverless::Function").values()]
    found: dict[str, str] = {}
    for block in blocks:
        for var, value in (block.get("Environment", {}).get("Variables", {}) or {}).items():
            if isinstance(value, dict) and isinstance(value.get("Ref"), str):
                found[var] = value["Ref"]
    return found


# --------------------------------------------------------------------------- provisioning


def _to_attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def placeholder_secret(template: Mapping[str, Any], logical_id: str = SECRET_ID) -> dict[str, str]:
    """The secret's JSON keys as the template declares them, each with an empty value."""
    props = template["Resources"][logical_id].get("Properties", {})
    raw = props.get("SecretString")
    if raw is None:
        raw = props.get("GenerateSecretString", {}).get("SecretStringTemplate", "{}")
    if not isinstance(raw, str):
        raise ValueError(f"{logical_id}: SecretString must be a literal JSON string to derive placeholders")
    keys = json.loads(raw)
    if not isinstance(keys, dict):
        raise ValueError(f"{logical_id}: SecretString is not a JSON object")
    return {str(key): "" for key in keys}


class _Provisioner:
    def __init__(
        self,
        session: boto3.session.Session,
        template: Template,
        *,
        prefix: str,
        secret_values: Mapping[str, str] | None,
        api_key_values: Mapping[str, str] | None = None,
    ) -> None:
        region = session.region_name or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        endpoint_url = os.environ.get("AWS_ENDPOINT_URL") or None
        self.template = template
        self.prefix = prefix
        self.secret_values = secret_values
        self.api_key_values = dict(api_key_values or {})
        self.resolver = _Resolver(template, region=region, stack_name=prefix)
        self.dynamodb: DynamoDBClient = session.client("dynamodb", region_name=region, endpoint_url=endpoint_url)
        self.sqs: SQSClient = session.client("sqs", region_name=region, endpoint_url=endpoint_url)
        self.secrets: SecretsManagerClient = session.client(
            "secretsmanager", region_name=region, endpoint_url=endpoint_url
        )
        self.s3: S3Client = session.client("s3", region_name=region, endpoint_url=endpoint_url)
        self.apigateway: APIGatewayClient = session.client("apigateway", region_name=region, endpoint_url=endpoint_url)
        self.region = region
        self.names: dict[str, str] = {}  # logical id -> name (secret, table), URL (queue) or id (API, key, plan)
        self.api_keys: dict[str, str] = {}  # logical id -> value

    def physical_name(self, logical_id: str, props: Mapping[str, Any], name_key: str) -> str:
        if name_key in props:
            return str(self.resolver.resolve(props[name_key]))
        return f"{self.prefix}-{logical_id}"

    def run(self) -> None:
        creators = {
            SECRET_TYPE: self.create_secret,
            TABLE_TYPE: self.create_table,
            QUEUE_TYPE: self.create_queue,
            BUCKET_TYPE: self.create_bucket,
            REST_API_TYPE: self.create_rest_api,
            API_KEY_TYPE: self.create_api_key,
            USAGE_PLAN_TYPE: self.create_usage_plan,
            USAGE_PLAN_KEY_TYPE: self.create_usage_plan_key,
        }
        resources = self.template["Resources"]
        for logical_id in _creation_order(self.template):
            resource = resources[logical_id]
            creators[resource["Type"]](logical_id, resource.get("Properties", {}))

    # -- Secrets Manager

    def create_secret(self, logical_id: str, props: Mapping[str, Any]) -> None:
        name = self.physical_name(logical_id, props, "Name")
        values = (
            dict(self.secret_values)
            if self.secret_values is not None
            else placeholder_secret(self.template, logical_id)
        )
        secret_string = json.dumps(values)
        try:
            arn = self.secrets.create_secret(Name=name, SecretString=secret_string)["ARN"]
        except self.secrets.exceptions.ResourceExistsException:
            arn = self.secrets.put_secret_value(SecretId=name, SecretString=secret_string)["ARN"]
        self.resolver.refs[logical_id] = arn
        self.resolver.attributes[(logical_id, "Id")] = arn
        self.resolver.attributes[(logical_id, "Name")] = name
        self.names[logical_id] = name

    # -- DynamoDB

    def create_table(self, logical_id: str, props: Mapping[str, Any]) -> None:
        p = self.resolver.resolve(dict(props))
        name = self.physical_name(logical_id, p, "TableName")
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": p["AttributeDefinitions"],
            "KeySchema": p["KeySchema"],
            "BillingMode": p.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in p:
            request["ProvisionedThroughput"] = {k: int(v) for k, v in p["ProvisionedThroughput"].items()}
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if key in p:
                request[key] = p[key]
        if "StreamSpecification" in p:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": p["StreamSpecification"]["StreamViewType"],
            }
        sse = p.get("SSESpecification")
        if sse:
            request["SSESpecification"] = {
                "Enabled": bool(sse.get("SSEEnabled", False)),
                **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
                **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
            }
        try:
            description = self.dynamodb.create_table(**request)["TableDescription"]
        except self.dynamodb.exceptions.ResourceInUseException:
            description = self.dynamodb.describe_table(TableName=name)["Table"]
        self.dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled", False):
            current = self.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                self.dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = description["TableArn"]
        if "LatestStreamArn" in description:
            self.resolver.attributes[(logical_id, "StreamArn")] = description["LatestStreamArn"]
        self.names[logical_id] = name

    # -- SQS

    _QUEUE_ATTRIBUTES: tuple[QueueAttributeNameType, ...] = (
        "DelaySeconds",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
    )

    def create_queue(self, logical_id: str, props: Mapping[str, Any]) -> None:
        p = self.resolver.resolve(dict(props))
        name = self.physical_name(logical_id, p, "QueueName")
        if p.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {key: _to_attribute(p[key]) for key in self._QUEUE_ATTRIBUTES if key in p}
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.resolver.refs[logical_id] = url
        self.resolver.attributes[(logical_id, "Arn")] = arn
        self.resolver.attributes[(logical_id, "QueueName")] = name
        self.resolver.attributes[(logical_id, "QueueUrl")] = url
        self.names[logical_id] = url

    # -- S3

    def create_bucket(self, logical_id: str, props: Mapping[str, Any]) -> None:
        """A bucket with the template's default encryption and versioning (bucket names are lowercase)."""
        p = self.resolver.resolve(dict(props))
        name = self.physical_name(logical_id, p, "BucketName").lower()
        request: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with contextlib.suppress(self.s3.exceptions.BucketAlreadyOwnedByYou, self.s3.exceptions.BucketAlreadyExists):
            self.s3.create_bucket(**request)
        rules = p.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration")
        if rules:  # CloudFormation's ServerSideEncryptionByDefault is the API's ApplyServerSideEncryptionByDefault
            api_rules: list[ServerSideEncryptionRuleTypeDef] = [
                {"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]} for r in rules
            ]
            configuration: ServerSideEncryptionConfigurationTypeDef = {"Rules": api_rules}
            self.s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=configuration)
        versioning = p.get("VersioningConfiguration", {}).get("Status")
        if versioning:
            self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        self.resolver.attributes[(logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"
        self.names[logical_id] = name

    # -- API Gateway (REST): the API, its usage plans and their keys, so that a key can be checked as in AWS

    def create_rest_api(self, logical_id: str, props: Mapping[str, Any]) -> None:
        """The API (no routes: the local API serves them) and the usage plan and key SAM makes from Auth.UsagePlan."""
        p = self.resolver.resolve({key: value for key, value in props.items() if key in ("Name", "StageName")})
        name = p.get("Name") or f"{self.prefix}-{logical_id}"
        existing = [api for api in self.apigateway.get_rest_apis(limit=500)["items"] if api.get("name") == name]
        api_id = existing[0]["id"] if existing else self.apigateway.create_rest_api(name=name)["id"]
        self.resolver.refs[logical_id] = api_id
        self.resolver.refs[f"{logical_id}.Stage"] = str(p.get("StageName", "api"))
        self.names[logical_id] = api_id
        plan = props.get("Auth", {}).get("UsagePlan", {})
        if plan.get("CreateUsagePlan") == "PER_API":  # SAM's <Api>UsagePlan, <Api>ApiKey and <Api>UsagePlanKey
            stages = [{"ApiId": {"Ref": logical_id}, "Stage": {"Ref": f"{logical_id}.Stage"}}]
            self.create_usage_plan(f"{logical_id}UsagePlan", {"UsagePlanName": plan.get("UsagePlanName"),
                                                               "ApiStages": stages})  # fmt: skip
            self.create_api_key(f"{logical_id}ApiKey", {"Enabled": True})
            self.create_usage_plan_key(
                f"{logical_id}UsagePlanKey",
                {"KeyId": {"Ref": f"{logical_id}ApiKey"}, "UsagePlanId": {"Ref": f"{logical_id}UsagePlan"}},
            )

    def create_api_key(self, logical_id: str, props: Mapping[str, Any]) -> None:
        p = self.resolver.resolve({key: value for key, value in props.items() if key in ("Name", "Enabled")})
        name = p.get("Name") or f"{self.prefix}-{logical_id}"
        value = self.api_key_values.get(logical_id) or f"local-{logical_id}"
        found = [
            k for k in self.apigateway.get_api_keys(nameQuery=name, includeValues=True)["items"] if k["name"] == name
        ]
        key = (
            found[0]
            if found
            else self.apigateway.create_api_key(name=name, value=value, enabled=p.get("Enabled", True))
        )
        self.resolver.refs[logical_id] = key["id"]
        self.names[logical_id] = key["id"]
        self.api_keys[logical_id] = key.get("value", value)

    def create_usage_plan(self, logical_id: str, props: Mapping[str, Any]) -> None:
        p = self.resolver.resolve({key: value for key, value in props.items() if key in ("UsagePlanName", "ApiStages")})
        name = p.get("UsagePlanName") or f"{self.prefix}-{logical_id}"
        found = [plan for plan in self.apigateway.get_usage_plans(limit=500)["items"] if plan.get("name") == name]
        stages: list[ApiStageTypeDef] = [{"apiId": s["ApiId"], "stage": s["Stage"]} for s in p.get("ApiStages", [])]
        plan_id = found[0]["id"] if found else self.apigateway.create_usage_plan(name=name, apiStages=stages)["id"]
        self.resolver.refs[logical_id] = plan_id
        self.names[logical_id] = plan_id

    def create_usage_plan_key(self, logical_id: str, props: Mapping[str, Any]) -> None:
        p = self.resolver.resolve(dict(props))
        plan_id, key_id = str(p["UsagePlanId"]), str(p["KeyId"])
        keys = self.apigateway.get_usage_plan_keys(usagePlanId=plan_id, limit=500)["items"]
        if not any(key.get("id") == key_id for key in keys):
            self.apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
        self.names[logical_id] = f"{plan_id}:{key_id}"


def _session() -> boto3.session.Session:
    """A new session (credentials, region and endpoint as the environment says now) whose service
    models come from one shared loader: parsing them is most of the time of a provisioning."""
    botocore_session = botocore.session.get_session()
    botocore_session.register_component("data_loader", _shared_loader())
    return boto3.session.Session(botocore_session=botocore_session)


@functools.lru_cache(maxsize=1)
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def provision(
    session_or_none: boto3.session.Session | None = None,
    *,
    secret_values: Mapping[str, str] | None = None,
    prefix: str = "local",
    template: Template | None = None,
    api_key_values: Mapping[str, str] | None = None,
) -> StackResources:
    """Create the template's DynamoDB tables, SQS queues, S3 buckets and Secrets Manager secret through boto3.

    Tables get the template's KeySchema, AttributeDefinitions, billing mode, indexes and TTL; queues
    its attributes (VisibilityTimeout, MessageRetentionPeriod, RedrivePolicy pointing at the created
    DLQ with the same maxReceiveCount, ...); the secret's SecretString is ``json.dumps(secret_values)``
    or, when None, the template's placeholder keys with empty values. Physical names are
    ``<prefix>-<LogicalId>`` unless the template names the resource.

    Runs against whatever endpoint boto3 would use: moto's ``mock_aws`` in-process, or the server
    named by ``AWS_ENDPOINT_URL``. Idempotent: existing resources are reused and the secret's value
    is overwritten. API keys get the values `api_key_values` gives their logical ids when they are created
    (``local-<LogicalId>`` otherwise).
    """
    session = session_or_none or _session()
    template = template if template is not None else load_template()
    provisioner = _Provisioner(
        session, template, prefix=prefix, secret_values=secret_values, api_key_values=api_key_values
    )
    provisioner.run()
    names = provisioner.names
    return StackResources(
        names=dict(names),
        variables=referenced_variables(template),
        api_keys=dict(provisioner.api_keys),
        secret_name=names[SECRET_ID],
        state_table=names[STATE_TABLE_ID],
        jobs_table=names[JOBS_TABLE_ID],
        route_jobs_queue_url=names[ROUTE_JOBS_QUEUE_ID],
        route_jobs_dlq_url=names[ROUTE_JOBS_DLQ_ID],
    )


# --------------------------------------------------------------------------- moto server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_moto_server(port: int | None = None) -> tuple[ThreadedMotoServer, str]:
    """Start a moto server on 127.0.0.1 (a free port unless given); return it and its base URL.

    Point boto3 at it with ``AWS_ENDPOINT_URL=<url>`` (plus any dummy credentials and a region), and
    stop it with ``server.stop()``.
    """
    from moto.server import ThreadedMotoServer  # imported lazily: moto[server] pulls in flask

    chosen = port if port is not None else _free_port()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=chosen, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{chosen}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.aws_stack",
        description="Start a moto server, provision template.yaml's tables, queues and secret, and serve.",
    )
    parser.add_argument("--port", type=int, default=None, help="port for the moto server (default: a free one)")
    parser.add_argument("--prefix", default="local", help="physical name prefix (default: local)")
    args = parser.parse_args(argv)

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    server, url = start_moto_server(args.port)
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        resources = provision(prefix=args.prefix)
        print(f"export AWS_ENDPOINT_URL={url}")
        print(f"export AWS_DEFAULT_REGION={os.environ['AWS_DEFAULT_REGION']}")
        for key, value in resources.environment().items():
            print(f"export {key}={value}")
        print("# moto server running; Ctrl-C to stop", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
