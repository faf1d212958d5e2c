"""template.yaml says what the design says: arm64/python3.12 functions on one layer, keyed API,
partial-batch SQS with a DLQ, least-privilege policies. Static checks only (sam runs in
scripts/check_template.sh)."""

from __future__ import annotations

import json
import os
import re
import subprocess
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
    ("GET", "/v1/admin/config"): "StatusFunction",
    ("PUT", "/v1/admin/config"): "StatusFunction",
    ("PATCH", "/v1/admin/config"): "StatusFunction",
    ("GET", "/v1/admin/config/history"): "StatusFunction",
    ("POST", "/v1/admin/config/rollback"): "StatusFunction",
    ("PUT", "/v1/admin/providers/{provider}/key"): "StatusFunction",
    ("PUT", "/v1/admin/keys/{api_key_id}/budget"): "StatusFunction",
    ("DELETE", "/v1/admin/keys/{api_key_id}/budget"): "StatusFunction",
    ("GET", "/v1/usage"): "StatusFunction",
    ("POST", "/v1/jobs"): "RouteFunction",
    ("GET", "/v1/jobs/{job_id}"): "RouteFunction",
    ("POST", "/v1/chat/completions"): "ChatFunction",
    ("GET", "/v1/models"): "ChatFunction",
    ("GET", "/v1/models/{model+}"): "ChatFunction",
    ("POST", "/v1/embeddings"): "ChatFunction",
    ("POST", "/v1/feedback"): "RouteFunction",
}
STREAMED = "ChatFunction"  # its answers are streamed through the web adapter (run.sh)
AUTHORIZER = "ApiKeyAuthorizerFunction"  # the REST API's Lambda authorizer: no provider, no AWS call
PUBLIC_PATHS = {"/health"}
WS_ACTIONS = {"execute-api:ManageConnections", "apigateway:GET"}  # the ws function's inline Allow statements
STATUS_ACTIONS = {"secretsmanager:PutSecretValue"}  # the status function's: the admin's provider key route
INLINE_ALLOWS = {"WsFunction": WS_ACTIONS, "StatusFunction": STATUS_ACTIONS}
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
        props["Layers"] = [*globals_.get("Layers", []), *resource["Properties"].get("Layers", [])]  # SAM appends
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
    # Given the API functions, the training-queue consumer, the WebSocket API's and the authorizer, Globals applied
    assert set(functions) == {
        "RouteFunction",
        "GeneratePointsFunction",
        "StatusFunction",
        "HandleErrorFunction",
        "TrainingConsumerFunction",
        "WsFunction",
        STREAMED,
        AUTHORIZER,
    }
    for logical_id, props in functions.items():
        # Then each runs python3.12 on arm64, uses the shared layer and an existing handler directory
        assert props["Runtime"] == "python3.12", logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert LAYER_REF in props["Layers"], logical_id
        assert props["Handler"] == ("run.sh" if logical_id == STREAMED else "app.handler"), logical_id
        assert props["Tracing"] == ("PassThrough" if logical_id == AUTHORIZER else "Active"), logical_id
        assert (REPO_ROOT / props["CodeUri"]).is_dir(), logical_id
        assert props["CodeUri"].startswith("functions/"), logical_id


def test_layer_is_built_for_python312_on_arm64(template: dict[str, Any]) -> None:
    # Given the providers layer
    layer = template["Resources"]["ProvidersLayer"]
    # Then SAM builds it with its Makefile (python3.12 bytecode included) for arm64 from the pinned requirements
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    content = REPO_ROOT / layer["Properties"]["ContentUri"]
    assert (content / "requirements.txt").is_file()
    requirements = [
        line for line in (content / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert all("==" in line for line in requirements), "layer requirements must be pinned"


def _make_recipe(makefile: Path, target: str) -> str:
    """The recipe of one target of a Makefile, its continuation lines joined."""
    lines = makefile.read_text().replace("\\\n", " ").splitlines()
    start = lines.index(f"{target}:") + 1
    recipe = []
    for line in lines[start:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return "\n".join(recipe)


def test_layer_makefile_ships_python312_bytecode_for_arm64_and_no_dev_code(template: dict[str, Any]) -> None:
    # Given the Makefile SAM runs for the layer (`make build-<logical id>` in a copy of ContentUri)
    content = REPO_ROOT / template["Resources"]["ProvidersLayer"]["Properties"]["ContentUri"]
    makefile = content / "Makefile"
    recipe = _make_recipe(makefile, "build-ProvidersLayer")
    text = makefile.read_text()
    # Then it installs the pinned requirements as CPython 3.12 wheels for aarch64 only, into ARTIFACTS_DIR/python
    assert re.search(r"-m pip install .*--only-binary=:all: .*--python-version 3\.12 .*--abi cp312", recipe)
    assert "--no-compile" in recipe  # pip's own .pyc would be timestamp-based: compileall makes them below
    platforms = re.search(r"^PLATFORMS := (.+)$", text, re.MULTILINE)
    assert platforms
    assert platforms[1].split()
    assert all(platform.endswith("_aarch64") for platform in platforms[1].split())
    assert '--target "$(LAYER_PYTHON)" -r requirements.txt' in recipe
    assert "LAYER_PYTHON = $(ARTIFACTS_DIR)/python" in text
    # And it copies the gateway package alone (no dev/, tests or bench code) and drops every __pycache__
    copies = [line for line in recipe.splitlines() if line.startswith("cp ")]
    assert copies == ['cp -RL gateway "$(LAYER_PYTHON)/gateway"']
    assert 'find "$(LAYER_PYTHON)" -name __pycache__ -type d -prune -exec rm -rf {} +' in recipe
    # And it compiles everything last, with python3.12, into .pyc whose validity does not hang on mtimes
    # (the layer's zip keeps none), named for /opt/python where Lambda unpacks the layer
    assert recipe.splitlines()[-1].startswith("$(PYTHON) -m compileall")
    assert "--invalidation-mode unchecked-hash" in recipe
    assert "-p /opt/python" in recipe
    assert re.search(r"^PYTHON \?= python3\.12$", text, re.MULTILINE)


def test_dependencies_left_out_of_the_layer_are_not_imported_by_the_gateway() -> None:
    # Given the distributions the layer's Makefile removes after installing the requirements
    makefile = (REPO_ROOT / "layers" / "providers" / "Makefile").read_text()
    dropped = re.search(r"^DROP := (.+)$", makefile, re.MULTILINE)
    assert dropped
    names = set(dropped[1].split()) | {"_cffi_backend"}  # cffi's native module
    # Then no module of the gateway or the functions imports one of them (the Makefile's comment says which
    # code paths of the SDKs would, and why the gateway never takes them)
    sources = [*(REPO_ROOT / "layers/providers/gateway").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")]
    pattern = re.compile(rf"^\s*(?:import|from)\s+({'|'.join(sorted(names))})\b", re.MULTILINE)
    importers = [str(path.relative_to(REPO_ROOT)) for path in sources if pattern.search(path.read_text())]
    assert importers == []


def test_route_consumes_its_queue_with_partial_batch_failures(functions: dict[str, dict[str, Any]]) -> None:
    # Given the route function's SQS event
    (sqs_event,) = _events(functions["RouteFunction"], "SQS")
    # Then it reads RouteJobsQueue one job at a time (each job may need the whole deadline) and reports
    # failed items individually
    assert sqs_event["Queue"] == {"Fn::GetAtt": ["RouteJobsQueue", "Arn"]}
    assert sqs_event["BatchSize"] == 1
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
    # And every inline statement that allows something names its resources: "*" only for actions that
    # have no resource-level permissions, and a wildcard ARN only under a resource of this template
    for key, statements in _walk(template["Resources"]):
        if key == "Statement":
            for statement in statements if isinstance(statements, list) else [statements]:
                _assert_least_privilege(statement, template["Resources"])


# Actions IAM cannot scope to a resource, so "*" is the only Resource they take. X-Ray's: a function
# with `Tracing: Active` gets them from SAM through the AWSXrayWriteOnlyAccess managed policy.
RESOURCELESS_ACTIONS = frozenset(
    {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}
)
# AWS-managed policies SAM attaches by itself: the logs every function writes, X-Ray (above), and the
# queue polling of an SQS event source (on every queue: SAM has no setting to scope it, so each consumer
# carries a Deny guard that leaves it its own queue; see test_sqs_consumers_poll_only_their_own_queue).
SAM_MANAGED_POLICIES = frozenset(
    {
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",  # for a DynamoDB stream event
    }
)


def _assert_least_privilege(statement: dict[str, Any], resources: dict[str, Any]) -> None:
    if statement.get("Effect") != "Allow":
        return  # a Deny (e.g. the bucket's insecure-transport guard) may and should be broad
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    for target in targets:
        if target == "*":
            assert set(actions) <= RESOURCELESS_ACTIONS, f"{actions} on every resource"
            continue
        text = json.dumps(target)
        named = any(f"${{{lid}" in text or f'"{lid}"' in text for lid in resources)
        assert "*" not in text or named, f"{actions} on a wildcard ARN that names no resource: {text}"


def test_policy_templates_name_template_resources(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given the SAM policy templates each function uses
    for logical_id, props in functions.items():
        for name, args_list in _policy_templates(props).items():
            for args in args_list:
                # Then it is scoped by at least one argument (an argument-less template, such as
                # CloudWatchPutMetricPolicy: {}, grants "*"), and every argument points at a resource this
                # template declares (no wildcards, no literals)
                assert args, f"{logical_id} {name} names no resource"
                for arg in args.values():
                    target = arg.get("Ref") or arg.get("Fn::GetAtt", [None])[0]
                    assert target in template["Resources"], f"{logical_id} {name} {arg}"
        # And no function attaches managed policies by hand, nor inline statements other than Deny guards, but for
        # what no SAM policy template grants: the ws function's posts to its connections and reads of the API keys, the
        # status function's new versions of the provider secret
        assert all(isinstance(policy, dict) for policy in props.get("Policies", [])), logical_id
        inline = [statement for policy in props.get("Policies", []) for statement in policy.get("Statement", [])]
        allowed = [statement for statement in inline if statement["Effect"] != "Deny"]
        assert all(statement["Effect"] in ("Deny", "Allow") for statement in inline), logical_id
        assert {s["Action"] for s in allowed} <= INLINE_ALLOWS.get(logical_id, set()), logical_id


def test_every_function_reads_the_secret_and_state_table_and_only_route_gets_jobs(
    functions: dict[str, dict[str, Any]],
) -> None:
    for logical_id, props in functions.items():
        if logical_id == AUTHORIZER:  # it reads no secret and calls no provider: it has no policy at all
            assert "Policies" not in props
            continue
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
    # When collecting every Api event (CORS preflights apart: see the next test)
    endpoints: dict[tuple[str, str], str] = {}
    for logical_id, props in functions.items():
        for event in _events(props, "Api"):
            assert event["RestApiId"] == {"Ref": "GatewayApi"}
            if event["Method"].upper() == "OPTIONS":
                continue
            endpoints[(event["Method"].upper(), event["Path"])] = logical_id
            # Then only /health and the admin methods opt out of the API key, the admin ones for IAM; every keyed
            # method takes its key through the API's authorizer (x-api-key or a bearer token)
            is_admin = event["Path"].startswith(ADMIN_PREFIX)
            requires_key = event.get("Auth", {}).get("ApiKeyRequired", auth["ApiKeyRequired"])
            assert requires_key is (event["Path"] not in PUBLIC_PATHS and not is_admin), event["Path"]
            authorizer = event.get("Auth", {}).get("Authorizer", auth["DefaultAuthorizer"])
            expected = "AWS_IAM" if is_admin else "ApiKeyAuthorizer" if requires_key else "NONE"
            assert authorizer == expected, event["Path"]
            # And the streamed function's answers are all streamed (the adapter streams whatever it answers)
            assert (event.get("ResponseTransferMode") == "RESPONSE_STREAM") is (logical_id == STREAMED), event["Path"]
    # And the endpoints are exactly the design's
    assert endpoints == EXPECTED_ENDPOINTS


def test_every_keyed_path_answers_cors_preflights_in_its_own_function(functions: dict[str, dict[str, Any]]) -> None:
    # Given every OPTIONS event, and the paths that take an API key (browsers call those)
    preflights: dict[str, str] = {}
    for logical_id, props in functions.items():
        for event in _events(props, "Api"):
            if event["Method"].upper() == "OPTIONS":
                preflights[event["Path"]] = logical_id
                # Then a preflight needs no key, no authorizer and no IAM signature: browsers send none on one
                assert event["Auth"] == {"ApiKeyRequired": False, "Authorizer": "NONE"}, event["Path"]
    keyed = {path: fn for (_, path), fn in EXPECTED_ENDPOINTS.items() if path not in PUBLIC_PATHS}
    keyed = {path: fn for path, fn in keyed.items() if not path.startswith(ADMIN_PREFIX)}
    # And each keyed path has one, answered by the function that owns the path (gateway.web answers it)
    assert preflights == keyed


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
        "ConnectionsTable": "connection_id",
    }
    for logical_id, table in tables.items():
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
        # a cache is rebuilt, never restored; open connections mean nothing once the stack is gone
        kept = "Delete" if logical_id in ("CacheTable", "ConnectionsTable") else "Retain"
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


# --------------------------------------------------------------------------- security surface (issue 6)

SAM_PYTHON = REPO_ROOT / ".venv-sam" / "bin" / "python"
# Run by the SAM CLI's own Python (.venv-sam, set up by scripts/check_template.sh): the template as
# CloudFormation receives it after the SAM transform, with every role SAM generates.
_TRANSFORM = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():
    for key in ("CodeUri", "ContentUri"):
        if isinstance(resource.get("Properties", {}).get(key), str):
            resource["Properties"][key] = "s3://bucket/key"
if len(sys.argv) > 3:  # another layer content, as `sam deploy` uploads a changed layer
    template["Resources"]["ProvidersLayer"]["Properties"]["ContentUri"] = sys.argv[3]
parameters = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
print(json.dumps(transform(template, parameters, NoManagedPolicies())))
"""


def _transform(parameters: dict[str, str] | None = None, layer_uri: str | None = None) -> dict[str, Any]:
    if not SAM_PYTHON.exists():
        pytest.skip("needs .venv-sam (scripts/check_template.sh sets it up)")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    extra = [layer_uri] if layer_uri else []
    done = subprocess.run(
        [str(SAM_PYTHON), "-c", _TRANSFORM, str(REPO_ROOT / "template.yaml"), json.dumps(parameters or {}), *extra],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    return _transform()


def test_the_roles_sam_generates_name_their_resources(transformed: dict[str, Any]) -> None:
    # Given every IAM role of the deployed template, SAM's policy templates expanded
    roles = resources_of_type(transformed, "AWS::IAM::Role")
    assert {lid.removesuffix("Role") for lid in roles} >= {
        "RouteFunction", "GeneratePointsFunction", "StatusFunction", "HandleErrorFunction", "TrainingConsumerFunction"
    }  # fmt: skip
    for logical_id, role in roles.items():
        props = role["Properties"]
        # Then every inline statement names its resources ("*" only for X-Ray's resource-less actions)
        for policy in props.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                _assert_least_privilege(statement, transformed["Resources"])
        # And the only managed policies are the ones SAM attaches by itself
        assert set(props.get("ManagedPolicyArns", [])) <= SAM_MANAGED_POLICIES, logical_id


def test_the_deployed_api_definition_carries_the_gateway_responses(transformed: dict[str, Any]) -> None:
    # Given the REST API as CloudFormation receives it (SAM writes GatewayResponses into its OpenAPI body)
    body = transformed["Resources"]["GatewayApi"]["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    # Then both defaults map the CORS header and answer JSON in the error shape
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        parameters = responses[response_type]["responseParameters"]
        assert "gatewayresponse.header.Access-Control-Allow-Origin" in parameters
        assert '{"error": {"code": ' in responses[response_type]["responseTemplates"]["application/json"]


SQS_POLLER_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
# What that AWS-managed policy allows on every queue ("*"), besides the logs.
SQS_POLLER_ACTIONS = frozenset({"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"})


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role["Properties"].get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return set(actions if isinstance(actions, list) else [actions])


def test_sqs_consumers_poll_only_their_own_queue_and_send_only_to_named_queues(
    transformed: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    roles = resources_of_type(transformed, "AWS::IAM::Role")
    queues = set(resources_of_type(transformed, "AWS::SQS::Queue"))
    for logical_id, props in functions.items():
        # Given a function's role as SAM generates it, and the queues the function consumes
        role = roles[f"{logical_id}Role"]
        consumed = [event["Queue"] for event in _events(props, "SQS")]
        guards = [s for s in _statements(role) if s["Effect"] == "Deny" and _actions(s) & SQS_POLLER_ACTIONS]
        # Then SAM gave the poller policy (every queue) to the queue consumers only
        assert (SQS_POLLER_POLICY in role["Properties"]["ManagedPolicyArns"]) == bool(consumed), logical_id
        # And each consumer has one Deny guard that takes the poller's actions away from every other queue
        if consumed:
            (queue,) = consumed
            (guard,) = guards
            assert _actions(guard) >= SQS_POLLER_ACTIONS, logical_id
            assert guard["NotResource"] == queue, logical_id
            assert "Resource" not in guard, logical_id
        else:
            assert guards == [], logical_id
        # And whatever it may send to (SQSSendMessagePolicy, an event source's failure destination) is one
        # queue of this template, by name or ARN
        for statement in _statements(role):
            if statement["Effect"] == "Allow" and any(action.startswith("sqs:") for action in _actions(statement)):
                assert _actions(statement) <= {"sqs:SendMessage", "sqs:SendMessage*"}, logical_id
                text = json.dumps(statement["Resource"])
                named = {lid for lid in queues if f'"{lid}"' in text}
                assert len(named) == 1, (logical_id, text)
                assert "*" not in text, (logical_id, text)


STREAM_READER_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"
# What that AWS-managed policy allows on every stream ("*"); ListStreams cannot be scoped to one.
STREAM_READER_ACTIONS = frozenset({"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"})


def test_stream_consumers_read_only_their_own_stream(
    transformed: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    roles = resources_of_type(transformed, "AWS::IAM::Role")
    for logical_id, props in functions.items():
        # Given a function's role as SAM generates it, and the streams the function consumes
        role = roles[f"{logical_id}Role"]
        consumed = [event["Stream"] for event in _events(props, "DynamoDB")]
        guards = [s for s in _statements(role) if s["Effect"] == "Deny" and _actions(s) & STREAM_READER_ACTIONS]
        # Then SAM gave the stream reader policy (every stream) to the stream consumers only
        assert (STREAM_READER_POLICY in role["Properties"]["ManagedPolicyArns"]) == bool(consumed), logical_id
        # And each has one Deny guard that takes the reader's actions away from every other stream
        if consumed:
            (stream,) = consumed
            (guard,) = guards
            assert _actions(guard) == STREAM_READER_ACTIONS, logical_id
            assert guard["NotResource"] == stream, logical_id
        else:
            assert guards == [], logical_id


def test_two_usage_plans_each_with_a_key_throttle_and_quota(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    params = template["Parameters"]
    # Given the standard plan SAM creates for the API (with its key, GatewayApiApiKey)
    standard = resources["GatewayApi"]["Properties"]["Auth"]["UsagePlan"]
    assert standard["CreateUsagePlan"] == "PER_API"
    assert standard["UsagePlanName"] == {"Fn::Sub": "${AWS::StackName}-standard"}
    # And the internal plan, on the same API and stage, with its own key
    internal = resources["InternalUsagePlan"]
    assert internal["Type"] == "AWS::ApiGateway::UsagePlan"
    assert internal["Properties"]["ApiStages"] == [
        {"ApiId": {"Ref": "GatewayApi"}, "Stage": {"Ref": "GatewayApi.Stage"}}
    ]
    link = resources["InternalUsagePlanKey"]["Properties"]
    assert link == {
        "KeyId": {"Ref": "InternalApiKey"},
        "KeyType": "API_KEY",
        "UsagePlanId": {"Ref": "InternalUsagePlan"},
    }
    assert resources["InternalApiKey"]["Properties"]["Enabled"] is True
    # Then both throttle each key and cap it with a quota, from parameters with defaults
    for plan in (standard, internal["Properties"]):
        refs = [plan["Throttle"]["RateLimit"], plan["Throttle"]["BurstLimit"], plan["Quota"]["Limit"]]
        refs.append(plan["Quota"]["Period"])
        assert all("Default" in params[ref["Ref"]] for ref in refs)
    # And the internal plan allows more than the standard one
    for standard_ref, internal_ref in zip(
        [standard["Throttle"]["RateLimit"], standard["Quota"]["Limit"]],
        [internal["Properties"]["Throttle"]["RateLimit"], internal["Properties"]["Quota"]["Limit"]],
        strict=True,
    ):
        assert params[internal_ref["Ref"]]["Default"] > params[standard_ref["Ref"]]["Default"]
    assert template["Outputs"]["InternalApiKeyId"]["Value"] == {"Ref": "InternalApiKey"}


def test_cors_origins_come_from_a_parameter_that_refuses_a_wildcard(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["CorsAllowOrigins"]
    assert template["Globals"]["Function"]["Environment"]["Variables"]["CORS_ALLOW_ORIGINS"] == {
        "Ref": "CorsAllowOrigins"
    }
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("https://app.example.com,https://admin.example.com")
    assert not pattern.fullmatch("*")
    assert not pattern.fullmatch("https://app.example.com,*")


def _evaluate(expression: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> Any:
    """A CloudFormation condition (or a value inside one) for given parameter values."""
    if not isinstance(expression, dict):
        return expression
    ((function, args),) = expression.items()
    if function == "Ref":
        return parameters[args]
    if function == "Condition":
        return _evaluate(conditions[args], parameters, conditions)
    values = [_evaluate(arg, parameters, conditions) for arg in args]
    if function == "Fn::Split":
        return values[1].split(values[0])
    if function == "Fn::Select":
        return values[1][int(values[0])]
    if function == "Fn::Equals":
        return values[0] == values[1]
    if function == "Fn::Not":
        return not values[0]
    if function == "Fn::And":
        return all(values)
    raise AssertionError(f"unexpected {function} in a condition")


def test_api_gateways_own_errors_carry_cors_and_the_error_shape(template: dict[str, Any]) -> None:
    from gateway.http.errors import error_response

    api = template["Resources"]["GatewayApi"]["Properties"]
    conditions = template["Conditions"]
    # Given API Gateway's own answers: the defaults every 4xx and 5xx type falls back to (a missing or invalid
    # key, throttling, a spent quota, an unknown path, a failed integration), none of which reach a function
    responses = api["GatewayResponses"]
    assert set(responses) >= {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        response = responses[response_type]
        assert "StatusCode" not in response  # each type keeps its own status (403, 429, 504 ...)
        # Then each allows the configured origin, but only when there is exactly one: the header is a static
        # value, and several origins can only be told apart per request (gateway.web does, for the functions)
        origin = response["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"]
        assert origin == {
            "Fn::If": ["HasSingleCorsOrigin", {"Fn::Sub": "'${CorsAllowOrigins}'"}, {"Ref": "AWS::NoValue"}]
        }
        # And its body is the gateway's error shape, the code being API Gateway's response type (the template
        # is not VTL: API Gateway substitutes $context variables and nothing else, so no method calls)
        body = response["ResponseTemplates"]["application/json"]
        variables = {"$context.error.responseType", "$context.error.messageString", "$context.requestId"}
        assert set(re.findall(r"\$[\w.()]+", body)) == variables
        rid = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
        rendered = (
            body.replace("$context.error.responseType", "INVALID_API_KEY")
            .replace("$context.error.messageString", '"Forbidden"')
            .replace("$context.requestId", rid)
        )
        assert "$" not in rendered, rendered
        assert json.loads(rendered) == json.loads(bytes(error_response(403, "INVALID_API_KEY", "Forbidden", rid).body))
    # And the condition holds for one origin only
    single = conditions["HasSingleCorsOrigin"]
    for value, expected in (
        ("", False),
        ("https://app.example.com", True),
        ("https://app.example.com,https://admin.example.com", False),
    ):
        assert _evaluate(single, {"CorsAllowOrigins": value}, conditions) is expected, value
    # And a new origin is live without another change to the API: the stage is redeployed on every update
    # (SAM hashes the definition as written, where the origin is only a reference to the parameter)
    assert api["AlwaysDeploy"] is True


def test_caps_are_parameters_no_higher_than_the_request_schemas(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    from gateway.config.settings import Settings
    from gateway.endpoints.error_analysis import ErrorDetails
    from gateway.endpoints.points import PointsRequest
    from gateway.endpoints.route import RouteRequest

    params = template["Parameters"]
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["MAX_BODY_BYTES"] == {"Ref": "MaxBodyBytes"}
    assert params["MaxBodyBytes"]["Default"] == Settings.model_fields["max_body_bytes"].default
    for function, variable, model, field in (
        ("RouteFunction", "MAX_PROMPT_CHARS_ROUTE", RouteRequest, "prompt"),
        ("GeneratePointsFunction", "MAX_PROMPT_CHARS_POINTS", PointsRequest, "prompt"),
        ("HandleErrorFunction", "MAX_PROMPT_CHARS_ERROR", ErrorDetails, "stack"),
    ):
        # Given the function's prompt cap, set from a parameter
        ref = functions[function]["Environment"]["Variables"][variable]["Ref"]
        ceiling = next(m.max_length for m in model.model_fields[field].metadata if hasattr(m, "max_length"))
        setting = Settings.model_fields[variable.lower()].default
        # Then its default is the setting's, and it cannot exceed what the request schema accepts at all
        assert params[ref]["Default"] == setting == params[ref]["MaxValue"] == ceiling, variable


def test_every_dead_letter_and_failure_queue_has_a_depth_alarm(template: dict[str, Any]) -> None:
    # Given every queue another queue redrives to
    dead_letter_queues = {
        queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for queue in resources_of_type(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in queue["Properties"]
    }
    assert dead_letter_queues == {"RouteJobsDeadLetterQueue", "TrainingDeadLetterQueue"}
    # And every event source mapping's on-failure destination (the interactions stream's)
    for function in resources_of_type(template, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if "DestinationConfig" in event["Properties"]:
                dead_letter_queues.add(
                    event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
                )
    assert "InteractionsFailureQueue" in dead_letter_queues
    # Then an alarm fires on its first visible message
    watched = {}
    for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            (dimension,) = props["Dimensions"]
            watched[dimension["Value"]["Fn::GetAtt"][0]] = (props["Threshold"], props["ComparisonOperator"])
    assert watched == dict.fromkeys(dead_letter_queues, (0, "GreaterThanThreshold"))


def test_alarms_watch_5xx_fallbacks_and_spend_and_all_notify_the_topic(template: dict[str, Any]) -> None:
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    namespace, service = env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]
    # Then the API's 5xx rate is judged on the API's own metrics, by name and stage
    server = alarms["ApiServerErrorRateAlarm"]["Properties"]
    stats = {m["Id"]: m["MetricStat"]["Metric"] for m in server["Metrics"] if "MetricStat" in m}
    assert (stats["errors"]["MetricName"], stats["requests"]["MetricName"]) == ("5XXError", "Count")
    assert stats["errors"]["Dimensions"] == [
        {"Name": "ApiName", "Value": template["Resources"]["GatewayApi"]["Properties"]["Name"]},
        {"Name": "Stage", "Value": template["Resources"]["GatewayApi"]["Properties"]["StageName"]},
    ]
    # with the streams that broke after their 200 (API Gateway counts no error for them) among the errors
    assert stats["interrupted"]["MetricName"] == "StreamsInterrupted"
    (rate,) = [m["Expression"]["Fn::Sub"] for m in server["Metrics"] if m.get("ReturnData")]
    assert "(errors + FILL(interrupted, 0)) / requests" in rate
    # And the fallback rate and the spend on the metrics the functions emit (their namespace and service)
    fallback = alarms["FallbackRateAlarm"]["Properties"]
    metrics = {m["Id"]: m["MetricStat"]["Metric"] for m in fallback["Metrics"] if "MetricStat" in m}
    assert {(m["MetricName"]) for m in metrics.values()} == {"Fallbacks", "ProviderAnswers"}
    spend = alarms["SpendNearCapAlarm"]["Properties"]
    assert spend["MetricName"] == "SpendCapUtilisation"
    for metric in [*metrics.values(), spend, stats["interrupted"]]:
        assert metric["Namespace"] == namespace
        assert metric["Dimensions"] == [{"Name": "service", "Value": service}]
    assert spend["Threshold"] == {"Ref": "SpendAlarmPercent"}
    # And every alarm tells the alarm topic, also when it recovers, and is quiet without data
    for logical_id, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == props["OKActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert props["TreatMissingData"] == "notBreaching", logical_id
    assert template["Resources"]["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    body = template["Resources"]["GatewayDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    parsed: dict[str, Any] = json.loads(re.sub(r"\$\{([^}!]+)\}", r"<\1>", body))
    return parsed


def _emitted_metric_names() -> set[str]:
    """Every metric name the gateway's code emits (the functions and the layer)."""
    sources = [*(REPO_ROOT / "layers/providers/gateway").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")]
    text = "\n".join(path.read_text() for path in sources)
    names = set(re.findall(r'name="([A-Z]\w+)"', text))  # Powertools metrics.add_metric(name=...)
    names |= set(re.findall(r'\("([A-Z]\w+)", "(?:Count|Milliseconds|None)"', text))  # observe_attempt's EMF
    names |= {f"Breaker{change.capitalize()}" for change in re.findall(r'_transition\(spec, "(\w+)"\)', text)}
    return names


def test_the_dashboard_shows_every_alarm_and_only_metrics_the_gateway_emits(template: dict[str, Any]) -> None:
    # Given the dashboard's body (JSON once its ${...} are substituted)
    widgets = _dashboard(template)["widgets"]
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    # Then its alarm widget shows every alarm
    (alarm_widget,) = (w for w in widgets if w["type"] == "alarm")
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(f"<{lid}.Arn>" for lid in alarms)
    # And every metric of the gateway's namespace it (or an alarm) draws is one the code emits
    gateway_namespace = "AiGateway/<AWS::StackName>"
    drawn: set[str] = set()
    for widget in widgets:
        namespace = None
        for metric in widget["properties"].get("metrics", []):
            if isinstance(metric[0], dict):
                drawn |= set(re.findall(r'MetricName="(\w+)"', metric[0]["expression"]))
                continue
            namespace = namespace if metric[0] in (".", "...") else metric[0]
            if namespace == gateway_namespace and metric[0] != "...":
                drawn.add(metric[1])
    for alarm in alarms.values():
        props = alarm["Properties"]
        if props.get("Namespace", {}) == {"Fn::Sub": "AiGateway/${AWS::StackName}"}:
            drawn.add(props["MetricName"])
        for query in props.get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric", {})
            if metric.get("Namespace") == {"Fn::Sub": "AiGateway/${AWS::StackName}"}:
                drawn.add(metric["MetricName"])
    assert {"Requests", "Fallbacks", "ProviderLatency", "CostUsd", "SpendCapUtilisation", "BreakerOpened"} <= drawn
    assert drawn <= _emitted_metric_names()


# --------------------------------------------------------------------------- the WebSocket API (issue 13)


def test_the_websocket_api_routes_every_frame_to_the_ws_function(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    resources = template["Resources"]
    # Given the WebSocket API: routes chosen by the frame's action
    api = resources_of_type(template, "AWS::ApiGatewayV2::Api")
    assert list(api) == ["WebSocketApi"]
    assert api["WebSocketApi"]["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["WebSocketApi"]["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    # Then $connect, $disconnect and $default each reach the one Lambda proxy integration of the ws function
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources_of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    assert {r["Target"]["Fn::Sub"] for r in routes.values()} == {"integrations/${WebSocketIntegration}"}
    integration = resources["WebSocketIntegration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    uri, names = integration["IntegrationUri"]["Fn::Sub"]
    assert "/functions/${WsFunctionLive}/invocations" in uri
    assert names == {"WsFunctionLive": {"Ref": "WsFunction.Alias"}}  # its published alias (SnapStart applies there)
    # And the key is the function's to check on $connect (a browser cannot send a header; API Gateway would read one)
    assert routes["$connect"]["AuthorizationType"] == "NONE"
    assert functions["WsFunction"]["Environment"]["Variables"]["REST_API_ID"] == {"Ref": "GatewayApi"}
    # And API Gateway may invoke the function for this API only
    permission = resources["WsFunctionWebSocketPermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "WsFunction.Alias"}
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert "${WebSocketApi}/" in permission["SourceArn"]["Fn::Sub"]


def test_the_websocket_stage_is_throttled_deployed_with_its_routes_and_logs_on_request(
    template: dict[str, Any],
) -> None:
    params = template["Parameters"]
    (stage,) = resources_of_type(template, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    # Then the stage redeploys on every change of routes, after they exist
    assert props["AutoDeploy"] is True
    assert set(stage["DependsOn"]) == {"WebSocketConnectRoute", "WebSocketDisconnectRoute", "WebSocketDefaultRoute"}
    # And it is throttled from parameters with defaults, and never logs frames (they carry prompts)
    route_settings = props["DefaultRouteSettings"]
    assert route_settings["ThrottlingRateLimit"] == {"Ref": "WebSocketRateLimit"}
    assert route_settings["ThrottlingBurstLimit"] == {"Ref": "WebSocketBurstLimit"}
    assert all("Default" in params[name] for name in ("WebSocketRateLimit", "WebSocketBurstLimit"))
    assert route_settings["DataTraceEnabled"] is False
    # And its access log (and error-level execution log) is on when asked: it needs the account's CloudWatch role
    assert props["AccessLogSettings"]["Fn::If"][0] == "HasWebSocketAccessLogs"
    log_format = props["AccessLogSettings"]["Fn::If"][1]["Format"]
    assert "$context.connectionId" in log_format
    assert "$context.eventType" in log_format
    assert route_settings["LoggingLevel"] == {"Fn::If": ["HasWebSocketAccessLogs", "ERROR", "OFF"]}
    assert template["Resources"]["WebSocketAccessLogGroup"]["Properties"]["RetentionInDays"] > 0


def test_the_ws_function_posts_only_to_this_apis_connections_and_reads_only_the_keys(
    functions: dict[str, dict[str, Any]],
) -> None:
    props = functions["WsFunction"]
    statements = {s["Sid"]: s for policy in props["Policies"] for s in policy.get("Statement", [])}
    # Then it may post to the connections of this API's stage, nothing else of execute-api
    manage = statements["PostToThisApisConnections"]
    assert manage["Action"] == "execute-api:ManageConnections"
    assert manage["Resource"]["Fn::Sub"].endswith(":${WebSocketApi}/ws/POST/@connections/*")
    # And read the API keys and which usage plans hold a key, and nothing else of API Gateway's
    keys = statements["ReadTheApiKeysAndTheirPlans"]
    assert keys["Action"] == "apigateway:GET"
    assert [r["Fn::Sub"].rsplit("::", 1)[1] for r in keys["Resource"]] == ["/apikeys", "/usageplans"]
    # And its connections live in their own table, which it may write
    tables = {args["TableName"]["Ref"] for args in _policy_templates(props)["DynamoDBCrudPolicy"]}
    assert "ConnectionsTable" in tables
    assert props["Environment"]["Variables"]["CONNECTIONS_TABLE"] == {"Ref": "ConnectionsTable"}


def test_the_websocket_api_has_an_error_rate_alarm_and_an_output(template: dict[str, Any]) -> None:
    alarm = template["Resources"]["WebSocketErrorRateAlarm"]["Properties"]
    metrics = {m["Id"]: m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m}
    # Then failed integrations and executions are judged against connections and messages, on this API's stage
    assert {m["MetricName"] for m in metrics.values()} == {
        "IntegrationError",
        "ExecutionError",
        "MessageCount",
        "ConnectCount",
    }
    for metric in metrics.values():
        assert metric["Dimensions"] == [
            {"Name": "ApiId", "Value": {"Ref": "WebSocketApi"}},
            {"Name": "Stage", "Value": "ws"},
        ]
    assert alarm["Threshold"] == {"Ref": "Api5xxRateThreshold"}
    assert template["Outputs"]["WebSocketUrl"]["Value"]["Fn::Sub"].startswith("wss://${WebSocketApi}.execute-api.")


# --------------------------------------------------------------------------- the OpenAI-compatible API (issue 12)


def test_the_chat_function_runs_under_the_web_adapter_and_streams(functions: dict[str, dict[str, Any]]) -> None:
    # Given the chat function
    props = functions[STREAMED]
    env = props["Environment"]["Variables"]
    # Then the web adapter's layer (arm64) wraps it, streams its answers, and waits for its app to be ready
    adapter = [layer for layer in props["Layers"] if layer != LAYER_REF]
    assert len(adapter) == 1
    assert ":753240598075:layer:LambdaAdapterLayerArm64:" in adapter[0]["Fn::Sub"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/v1/models"
    # And its start-up command runs the app under uvicorn on the adapter's port, and is executable
    run = REPO_ROOT / props["CodeUri"] / "run.sh"
    assert os.access(run, os.X_OK)
    assert "uvicorn app:asgi" in run.read_text()
    assert "AWS_LWA_PORT" in run.read_text()
    # And long answers have the time to stream, the deadline inside the function's timeout
    assert props["Timeout"] >= 120
    assert int(env["CHAT_DEADLINE_SECONDS"]) < props["Timeout"]


def test_the_api_takes_its_keys_from_the_authorizer_and_streams_the_chat_integration(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    # Given the API as written and as CloudFormation receives it
    api = template["Resources"]["GatewayApi"]["Properties"]
    body = transformed["Resources"]["GatewayApi"]["Properties"]["Body"]
    # Then keys come from the authorizer (x-api-key or a bearer token), uncached (either header may carry one)
    assert api["ApiKeySourceType"] == "AUTHORIZER"
    authorizer = api["Auth"]["Authorizers"][api["Auth"]["DefaultAuthorizer"]]
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    assert authorizer["Identity"] == {"ReauthorizeEvery": 0}
    # And the chat function's integrations are streamed (the 2021-11-15 response-streaming invocation)
    integration = body["paths"]["/v1/chat/completions"]["post"]["x-amazon-apigateway-integration"]
    assert integration["responseTransferMode"] == "STREAM"
    assert integration["uri"]["Fn::Sub"].endswith(  # the live alias's (SnapStart's published versions)
        "/2021-11-15/functions/${ChatFunctionAliaslive}/response-streaming-invocations"
    )
    assert integration["timeoutInMillis"] == 300000
    # And a buffered endpoint keeps its ordinary integration
    route = body["paths"]["/v1/route"]["post"]["x-amazon-apigateway-integration"]
    assert "responseTransferMode" not in route
    assert route["uri"]["Fn::Sub"].endswith("/invocations")


# --------------------------------------------------------------------------- SnapStart and the live alias (issue 15)

WAITED_ON = (
    "RouteFunction", "GeneratePointsFunction", "HandleErrorFunction", "StatusFunction", "WsFunction",
    "ApiKeyAuthorizerFunction",
)  # fmt: skip
NO_SNAPSHOT = (
    "TrainingConsumerFunction",
    "ChatFunction",
)  # no one waits on the first; the second's adapter predates it


def test_snapstart_is_a_parameter_for_the_functions_people_wait_on(template: dict[str, Any]) -> None:
    # Given the template's parameter, off by default (a snapshot has a price: docs/performance.md)
    assert template["Parameters"]["EnableSnapStart"]["Default"] == "false"
    assert template["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]}
    # Then every function is published behind its `live` alias, with SnapStart on published versions when it is on
    function_globals = template["Globals"]["Function"]
    assert function_globals["AutoPublishAlias"] == "live"
    assert function_globals["SnapStart"] == {"ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}}
    resources = template["Resources"]
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert all(f["Properties"]["AutoPublishAliasAllProperties"] is True for f in functions.values())
    # But the training consumer (no one waits on it) and the chat function (its adapter predates SnapStart) take none
    assert all(resources[name]["Properties"]["SnapStart"] == {"ApplyOn": "None"} for name in NO_SNAPSHOT)
    assert all("SnapStart" not in resources[name]["Properties"] for name in WAITED_ON)


def test_api_gateway_the_queues_the_stream_and_the_schedule_invoke_the_live_alias() -> None:
    deployed = _transform({"EnableSnapStart": "true"})
    resources = deployed["Resources"]
    aliases = {lid for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Alias"}
    assert aliases == {f"{name}Aliaslive" for name in (*WAITED_ON, *NO_SNAPSHOT)}

    # Every event source mapping (queues, stream), permission and schedule target names an alias, never the function
    def of(kind: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in resources_of_type(deployed, kind).values()]

    targets = [p["FunctionName"] for p in of("AWS::Lambda::EventSourceMapping") + of("AWS::Lambda::Permission")]
    targets += [t["Arn"] for p in of("AWS::Events::Rule") for t in p["Targets"]]
    assert len(targets) >= 20
    assert all(target["Ref"] in aliases for target in targets), targets
    # And every REST and WebSocket integration invokes an alias
    paths = resources["GatewayApi"]["Properties"]["Body"]["paths"]
    uris = [op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"] for ops in paths.values() for op in ops.values()]
    assert len(uris) > 10
    assert all(any(f"${{{alias}}}" in uri for alias in aliases) for uri in uris)
    _, names = resources["WebSocketIntegration"]["Properties"]["IntegrationUri"]["Fn::Sub"]
    assert names["WsFunctionLive"] == {"Ref": "WsFunctionAliaslive"}


def test_a_new_layer_publishes_a_new_version_of_every_function() -> None:
    # Given the template deployed with one layer, then with a changed one (a new upload)
    def versions(deployed: dict[str, Any]) -> set[str]:
        return set(resources_of_type(deployed, "AWS::Lambda::Version"))

    before, after = _transform(), _transform(layer_uri="s3://bucket/another-layer")
    # Then no function's alias is left on a version with the old layer
    assert len(before) == len(after) == 6
    assert not versions(before) & versions(after)
