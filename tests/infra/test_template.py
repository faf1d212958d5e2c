"""template.yaml says what the design says: arm64/python3.12 functions on one layer, keyed API,
partial-batch SQS with a DLQ, least-privilege policies. Static checks only (sam runs in
scripts/check_template.sh)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dev.aws_stack import (
    PROVISIONED_TYPES,
    REPO_ROOT,
    StackResources,
    load_template,
    referenced_variables,
    resources_of_type,
)

FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_REF = {"Ref": "ProvidersLayer"}
EXPECTED_ENDPOINTS = {
    ("POST", "/v1/route"): "RouteFunction",
    ("POST", "/v1/generate-points"): "GeneratePointsFunction",
    ("GET", "/v1/status"): "StatusFunction",
    ("GET", "/health"): "StatusFunction",
    ("POST", "/v1/handle-error"): "HandleErrorFunction",
    ("POST", "/v1/admin/circuits/reset"): "StatusFunction",
    ("POST", "/v1/jobs"): "RouteFunction",
    ("GET", "/v1/jobs/{job_id}"): "RouteFunction",
}
PUBLIC_PATHS = {"/health"}
ADMIN_PREFIX = "/v1/admin/"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's properties with Globals.Function applied (function values win)."""
    globals_ = template.get("Globals", {}).get("Function", {})
    merged: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources_of_type(template, FUNCTION_TYPE).items():
        props = {**globals_, **resource["Properties"]}
        env = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **resource["Properties"].get("Environment", {}).get("Variables", {}),
        }
        props["Environment"] = {"Variables": env}
        merged[logical_id] = props
    return merged


def _events(props: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    return [event["Properties"] for event in props.get("Events", {}).values() if event["Type"] == event_type]


def _policy_templates(props: dict[str, Any]) -> dict[str, list[Any]]:
    """SAM policy templates used by a function: name -> list of their argument mappings."""
    found: dict[str, list[Any]] = {}
    for policy in props.get("Policies", []):
        if isinstance(policy, dict) and "Statement" not in policy:
            for name, args in policy.items():
                found.setdefault(name, []).append(args)
    return found


def _walk(value: Any) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            pairs.append((key, item))
            pairs.extend(_walk(item))
    elif isinstance(value, list):
        for item in value:
            pairs.extend(_walk(item))
    return pairs


def test_every_function_is_arm64_python312_on_the_providers_layer(functions: dict[str, dict[str, Any]]) -> None:
    # Given the four API functions and the training-queue consumer, with Globals applied
    assert set(functions) == {
        "RouteFunction",
        "GeneratePointsFunction",
        "StatusFunction",
        "HandleErrorFunction",
        "TrainingConsumerFunction",
    }
    for logical_id, props in functions.items():
        # Then each runs python3.12 on arm64, uses the shared layer and an existing handler directory
        assert props["Runtime"] == "python3.12", logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert LAYER_REF in props["Layers"], logical_id
        assert props["Handler"] == "app.handler", logical_id
        assert props["Tracing"] == "Active", logical_id
        assert (REPO_ROOT / props["CodeUri"]).is_dir(), logical_id
        assert props["CodeUri"].startswith("functions/"), logical_id


def test_layer_is_built_for_python312_on_arm64(template: dict[str, Any]) -> None:
    # Given the providers layer
    layer = template["Resources"]["ProvidersLayer"]
    # Then SAM builds it with python3.12 for arm64 from the pinned requirements
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"] == {"BuildMethod": "python3.12", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    content = REPO_ROOT / layer["Properties"]["ContentUri"]
    assert (content / "requirements.txt").is_file()
    requirements = [
        line for line in (content / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert all("==" in line for line in requirements), "layer requirements must be pinned"


def test_route_consumes_its_queue_with_partial_batch_failures(functions: dict[str, dict[str, Any]]) -> None:
    # Given the route function's SQS event
    (sqs_event,) = _events(functions["RouteFunction"], "SQS")
    # Then it reads RouteJobsQueue in batches of 10 and reports failed items individually
    assert sqs_event["Queue"] == {"Fn::GetAtt": ["RouteJobsQueue", "Arn"]}
    assert sqs_event["BatchSize"] == 10
    assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # And the only other consumer is the training consumer, of the training queue, the same way
    (training,) = _events(functions["TrainingConsumerFunction"], "SQS")
    assert training["Queue"] == {"Fn::GetAtt": ["TrainingQueue", "Arn"]}
    assert training["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    consumers = {lid for lid, props in functions.items() if _events(props, "SQS")}
    assert consumers == {"RouteFunction", "TrainingConsumerFunction"}


def test_route_queue_redrives_to_the_dlq_and_outlasts_six_function_timeouts(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given the route jobs queue and its dead-letter queue
    queue = template["Resources"]["RouteJobsQueue"]["Properties"]
    dlq = template["Resources"]["RouteJobsDeadLetterQueue"]["Properties"]
    # Then failed messages move to the DLQ after a few receives
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["RouteJobsDeadLetterQueue", "Arn"]}
    assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 5
    # And a message stays invisible for at least 6x the consumer's timeout (AWS guidance)
    assert queue["VisibilityTimeout"] >= 6 * functions["RouteFunction"]["Timeout"]
    # And the DLQ keeps messages for the maximum 14 days, longer than the source queue
    assert dlq["MessageRetentionPeriod"] == 1_209_600
    assert dlq["MessageRetentionPeriod"] > queue.get("MessageRetentionPeriod", 345_600)
    # And only the route function gets the queue's URL
    assert functions["RouteFunction"]["Environment"]["Variables"]["ROUTE_JOBS_QUEUE_URL"] == {"Ref": "RouteJobsQueue"}


def test_no_policy_statement_grants_every_resource(template: dict[str, Any]) -> None:
    # Given every Resource/Resources value anywhere in the template (inline statements, roles, policies)
    resource_values = [value for key, value in _walk(template["Resources"]) if key in ("Resource", "Resources")]
    # Then none is a bare "*"
    for value in resource_values:
        values = value if isinstance(value, list) else [value]
        assert "*" not in values


def test_policy_templates_name_template_resources(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given the SAM policy templates each function uses
    for logical_id, props in functions.items():
        for name, args_list in _policy_templates(props).items():
            for args in args_list:
                # Then every argument points at a resource this template declares (no wildcards, no literals)
                for arg in args.values():
                    target = arg.get("Ref") or arg.get("Fn::GetAtt", [None])[0]
                    assert target in template["Resources"], f"{logical_id} {name} {arg}"
        # And no function attaches managed policies or inline statements by hand
        assert all(isinstance(policy, dict) and "Statement" not in policy for policy in props["Policies"])


def test_every_function_reads_the_secret_and_state_table_and_only_route_gets_jobs(
    functions: dict[str, dict[str, Any]],
) -> None:
    for logical_id, props in functions.items():
        # Given a function's policy templates
        policies = _policy_templates(props)
        tables = {args["TableName"]["Ref"] for args in policies.get("DynamoDBCrudPolicy", [])}
        secrets = [args["SecretArn"] for args in policies.get("AWSSecretsManagerGetSecretValuePolicy", [])]
        # Then it may read the provider secret
        assert secrets == [{"Ref": "ProviderSecret"}], logical_id
        # And every function that calls providers uses the state table (circuits, spend, probes);
        # the training consumer calls none, so it has no business there
        assert ("ProviderStateTable" in tables) == (logical_id != "TrainingConsumerFunction"), logical_id
        # And only the route function touches the jobs table
        assert ("JobsTable" in tables) == (logical_id == "RouteFunction"), logical_id


def test_api_exposes_the_designed_endpoints_with_keys_or_iam(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given the API defaults to requiring an API key, through a per-API usage plan
    auth = template["Resources"]["GatewayApi"]["Properties"]["Auth"]
    assert auth["ApiKeyRequired"] is True
    assert auth["UsagePlan"]["CreateUsagePlan"] == "PER_API"
    # When collecting every Api event
    endpoints: dict[tuple[str, str], str] = {}
    for logical_id, props in functions.items():
        for event in _events(props, "Api"):
            assert event["RestApiId"] == {"Ref": "GatewayApi"}
            endpoints[(event["Method"].upper(), event["Path"])] = logical_id
            # Then only /health and the admin methods opt out of the API key, the admin ones for IAM
            is_admin = event["Path"].startswith(ADMIN_PREFIX)
            requires_key = event.get("Auth", {}).get("ApiKeyRequired", auth["ApiKeyRequired"])
            assert requires_key is (event["Path"] not in PUBLIC_PATHS and not is_admin), event["Path"]
            assert (event.get("Auth", {}).get("Authorizer") == "AWS_IAM") is is_admin, event["Path"]
    # And the endpoints are exactly the design's
    assert endpoints == EXPECTED_ENDPOINTS


def test_api_throttles_every_method_and_route_more_strictly(template: dict[str, Any]) -> None:
    # Given the API's stage method settings and usage plan
    props = template["Resources"]["GatewayApi"]["Properties"]
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in props["MethodSettings"]}
    params = template["Parameters"]
    # Then every method is throttled from parameters
    default = settings[("/*", "*")]
    assert default["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert default["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    assert (params["ApiRateLimit"]["Default"], params["ApiBurstLimit"]["Default"]) == (50, 100)
    # And POST /v1/route has its own, stricter limits
    route = settings[("/~1v1~1route", "POST")]
    assert params[route["ThrottlingRateLimit"]["Ref"]]["Default"] < params["ApiRateLimit"]["Default"]
    assert params[route["ThrottlingBurstLimit"]["Ref"]]["Default"] < params["ApiBurstLimit"]["Default"]
    # And the usage plan has a throttle and a quota
    plan = props["Auth"]["UsagePlan"]
    assert set(plan["Throttle"]) == {"RateLimit", "BurstLimit"}
    assert set(plan["Quota"]) == {"Limit", "Period"}


def test_status_function_probes_on_a_schedule(functions: dict[str, dict[str, Any]]) -> None:
    (schedule,) = _events(functions["StatusFunction"], "Schedule")
    assert schedule["Schedule"] == "rate(5 minutes)"
    assert schedule["Enabled"] is True


def test_functions_get_the_design_configuration_names(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given the shared environment
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    # Then it carries the configuration names the design keeps for migrating users
    assert {
        "GATEWAY_MODE",
        "PROVIDER_SECRET_NAME",
        "PROVIDER_STATE_TABLE",
        "JOBS_TABLE",
        "GEMINI_MODEL",
        "GEMINI_BASE_URL",
        "VLLM_MODEL",
        "HF_POINT_GENERATOR_MODEL",
        "HF_BASE_URL",
        "SLM_MODE",
        "SLM_ENDPOINT_URL",
        "SLM_TIMEOUT_MS",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "LOG_LEVEL",
    } <= set(env)
    assert env["GATEWAY_MODE"] == "aws"
    # And every parameter reference has a default, so a bare deploy works
    params = template["Parameters"]
    for value in env.values():
        if isinstance(value, dict) and value.get("Ref") in params:
            assert "Default" in params[value["Ref"]]
    assert params["GeminiModel"]["Default"] == "gemini-2.5-flash"
    assert params["SlmMode"]["AllowedValues"] == ["local", "http"]
    # And no secret value is passed through the environment
    for props in functions.values():
        assert not any("API_KEY" in name or "BEARER" in name for name in props["Environment"]["Variables"])


def test_environment_resource_references_match_what_provision_sets(functions: dict[str, dict[str, Any]]) -> None:
    # Given every environment variable that refers to a secret, table or queue of the template
    template = load_template()
    stateful = {lid for t in PROVISIONED_TYPES for lid in resources_of_type(template, t)}
    referenced = {
        name
        for props in [template["Globals"]["Function"], *functions.values()]
        for name, value in props.get("Environment", {}).get("Variables", {}).items()
        if isinstance(value, dict) and value.get("Ref") in stateful
    }
    # Then the local stack provides exactly those variables
    names = {lid: f"local-{lid}" for lid in stateful}
    local = StackResources("s", "t", "j", "q", "d", names=names, variables=referenced_variables(template)).environment()
    assert referenced == set(local)


def test_tables_are_on_demand_with_ttl_and_kept_on_delete(template: dict[str, Any]) -> None:
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    assert {lid: t["Properties"]["KeySchema"][0]["AttributeName"] for lid, t in tables.items()} == {
        "ProviderStateTable": "pk",
        "JobsTable": "job_id",
        "CacheTable": "pk",
        "InteractionsTable": "pk",
        "IdempotencyTable": "pk",
    }
    for logical_id, table in tables.items():
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
        kept = "Delete" if logical_id == "CacheTable" else "Retain"  # a cache is rebuilt, never restored
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == kept


def test_secret_is_created_with_empty_placeholders(template: dict[str, Any]) -> None:
    secret = template["Resources"]["ProviderSecret"]["Properties"]
    assert json.loads(secret["SecretString"]) == {
        "GEMINI_API_KEY": "",
        "HUGGINGFACE_API_KEY": "",
        "SLM_AUTH_BEARER": "",
    }


def test_outputs_name_the_api_its_key_and_the_stateful_resources(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["ApiKeyId"]["Value"] == {"Ref": "GatewayApiApiKey"}  # SAM's generated key for GatewayApi
    assert "${GatewayApi}" in outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].endswith("/api")
    refs = {output["Value"].get("Ref") for output in outputs.values() if isinstance(output["Value"], dict)}
    assert {"ProviderStateTable", "JobsTable", "RouteJobsQueue", "RouteJobsDeadLetterQueue"} <= refs


def test_loader_turns_short_form_tags_into_long_form(tmp_path: Path) -> None:
    # Given a template using CloudFormation short-form tags
    path = tmp_path / "t.yaml"
    path.write_text(
        "Conditions:\n"
        "  IsProd: !Equals [!Ref Env, prod]\n"
        "Resources:\n"
        "  R:\n"
        "    Type: X\n"
        "    Properties:\n"
        "      A: !Ref P\n"
        "      B: !GetAtt Q.Arn\n"
        "      C: !Sub 'arn:${AWS::Partition}:x'\n"
        "      D: !If [IsProd, !Join ['-', [a, b]], !Ref AWS::NoValue]\n"
        "      E: !Select [0, !GetAZs '']\n"
        "      F: !Base64 {'Fn::Sub': x}\n"
    )
    # When it is loaded
    loaded = load_template(path)
    # Then each tag is its long (JSON) form
    props = loaded["Resources"]["R"]["Properties"]
    assert loaded["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    assert props["A"] == {"Ref": "P"}
    assert props["B"] == {"Fn::GetAtt": ["Q", "Arn"]}
    assert props["C"] == {"Fn::Sub": "arn:${AWS::Partition}:x"}
    assert props["D"] == {"Fn::If": ["IsProd", {"Fn::Join": ["-", ["a", "b"]]}, {"Ref": "AWS::NoValue"}]}
    assert props["E"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert props["F"] == {"Fn::Base64": {"Fn::Sub": "x"}}
