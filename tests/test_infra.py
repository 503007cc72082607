"""The deploy: the route plan built from the MCP app's declared paths, API Gateway route selection,
and the Pulumi program run against Pulumi's mocks (no AWS account, no pulumi CLI)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
from otterwiki_mcp.paths import declared_paths
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount
from starlette.routing import Route as StarletteRoute

from wikibot import cli, routeplan
from wikibot.routeplan import MCP, WIKI, Route, build_plan, match, select

# pulumi_aws warns about its own deprecated resource types when it is imported.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "infra"))

WIKI_PATHS = [
    "/",
    "/Home",
    "/-/login",
    "/static/css/x.css",
    "/api/v1/pages",
    "/api/v1/pages/Projects/Plan",
    "/.git/info/refs",
    "/.well-known/change-password",
    "/mcpnotes",
]
AUTH_ENVIRONMENTS = {
    "local": {"WIKIBOT_MCP_AUTH": "local"},
    "authkit": {
        "WIKIBOT_MCP_AUTH": "authkit",
        "WIKIBOT_MCP_AUTHKIT_DOMAIN": "https://example.authkit.app",
    },
    "tokens": {"WIKIBOT_MCP_AUTH": "tokens", "WIKIBOT_MCP_TOKEN": "t0ken"},
}


def _standalone() -> Any:
    """The real MCP service module; the test fails, saying why, when it cannot be imported."""
    try:
        from otterwiki_mcp import standalone
    except ImportError as e:
        pytest.fail(f"the MCP app cannot be imported ({e}); install wikibot[mcp]")
    return standalone


# -- the route plan, from a small Starlette app with every kind of route -------------------------


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def sample_app() -> Starlette:
    """Exact routes with a few methods, a path parameter, a mount, and CORS (so OPTIONS too)."""
    return Starlette(
        routes=[
            StarletteRoute("/mcp", _ok, methods=["POST", "DELETE"]),
            StarletteRoute("/.well-known/oauth-authorization-server", _ok, methods=["GET"]),
            StarletteRoute("/.well-known/oauth-protected-resource/mcp", _ok, methods=["GET"]),
            StarletteRoute("/token", _ok, methods=["POST"]),
            StarletteRoute("/register", _ok, methods=["POST"]),
            StarletteRoute("/clients/{client_id:int}", _ok, methods=["GET"]),
            Mount("/oauth", routes=[StarletteRoute("/approve", _ok, methods=["GET", "POST"])]),
        ],
        middleware=[Middleware(CORSMiddleware, allow_origins=["*"])],
    )


def concrete(path: str) -> str:
    """A request path the template matches."""
    return path.replace("{client_id}", "7").replace("{client_id:int}", "7")


def assert_plan_serves(plan: list[Route], declared: list[Any]) -> None:
    """Every declared path and method reaches MCP; what MCP does not declare reaches the wiki."""
    for path in declared:
        request_path = concrete(path.path)
        for method in path.methods:
            assert match(plan, method, request_path) == MCP, (method, path.path)
            if path.prefix:
                assert match(plan, method, request_path + "/deeper/still") == MCP
    for path in WIKI_PATHS:
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"):
            assert match(plan, method, path) == WIKI, (method, path)


def test_plan_route_keys_and_targets() -> None:
    plan = build_plan(declared_paths(sample_app()))
    targets = {route.key: route.target for route in plan}
    assert targets["$default"] == WIKI
    assert plan[-1].key == "$default"
    # `wikibot routes` prints them grouped by path, then method
    assert [(r.path, r.method) for r in plan[:-1]] == sorted((r.path, r.method) for r in plan[:-1])
    expected_mcp = [
        "ANY /mcp",
        "ANY /mcp/{proxy+}",
        "GET /.well-known/oauth-authorization-server",
        "HEAD /.well-known/oauth-authorization-server",  # Starlette serves HEAD with GET
        "OPTIONS /.well-known/oauth-authorization-server",  # CORS preflight
        "GET /.well-known/oauth-protected-resource/mcp",
        "POST /token",
        "OPTIONS /token",
        "POST /register",
        "GET /clients/{client_id}",
        "HEAD /clients/{client_id}",
        "ANY /oauth",
        "ANY /oauth/{proxy+}",
    ]
    for key in expected_mcp:
        assert targets.pop(key) == MCP, key
    assert set(targets) == {
        "$default",
        "HEAD /.well-known/oauth-protected-resource/mcp",
        "OPTIONS /.well-known/oauth-protected-resource/mcp",
        "OPTIONS /register",
        "OPTIONS /clients/{client_id}",
    }
    assert all(route.why for route in plan)


def test_every_declared_path_has_a_route_and_wiki_paths_stay_with_the_wiki() -> None:
    app = sample_app()
    plan = build_plan(declared_paths(app))
    assert_plan_serves(plan, declared_paths(app))
    # A page that shares its name with an OAuth endpoint still shows: only POST /token is MCP's.
    assert match(plan, "GET", "/token") == WIKI
    assert match(plan, "GET", "/clients/seven/more") == WIKI


def test_plan_follows_the_configured_mcp_path() -> None:
    plan = build_plan(declared_paths(sample_app()), mcp_path="/agent/")
    assert match(plan, "GET", "/agent") == MCP
    assert match(plan, "POST", "/agent/anything") == MCP
    assert {"ANY /agent", "ANY /agent/{proxy+}"} <= {r.key for r in plan}
    assert routeplan.mcp_endpoint(plan) == "/agent"


def test_a_root_mount_is_refused() -> None:
    app = Starlette(routes=[Mount("/", routes=[])])
    with pytest.raises(ValueError, match="hide the whole wiki"):
        build_plan(declared_paths(app))


def test_route_selection_follows_api_gateway() -> None:
    """The example of the API Gateway developer guide ("Routing API requests")."""
    plan = [
        Route("GET /pets/dog/1", WIKI, "exact"),
        Route("GET /pets/dog/{id}", WIKI, "variable"),
        Route("GET /pets/{proxy+}", WIKI, "greedy"),
        Route("ANY /{proxy+}", MCP, "catch-all greedy"),
        Route("POST /pets", MCP, "method"),
        Route("ANY /pets", WIKI, "any"),
        Route("$default", WIKI, "default"),
    ]

    def chosen(method: str, path: str) -> str | None:
        route = select(plan, method, path)
        return route.key if route else None

    assert chosen("GET", "/pets/dog/1") == "GET /pets/dog/1"
    assert chosen("GET", "/pets/dog/2") == "GET /pets/dog/{id}"
    assert chosen("GET", "/pets/cat/1") == "GET /pets/{proxy+}"
    assert chosen("POST", "/pets/cat/1") == "ANY /{proxy+}"
    assert chosen("POST", "/pets") == "POST /pets"
    assert chosen("GET", "/pets?x=1") == "ANY /pets"
    assert chosen("GET", "/") == "$default"
    assert select(plan[:-1], "GET", "/") is None
    assert match(plan[:-1], "GET", "/") is None


def test_route_ranks_do_not_depend_on_the_plan_order() -> None:
    """Each pair below differs in one rule only (literal vs variable vs greedy, more literal
    segments, the method vs ANY); in either order the better route wins, and a greedy variable
    needs at least one segment."""
    pairs = [
        ("GET /a/{x}", "GET /a/{proxy+}", "/a/b"),
        ("GET /pets/dog/{id}", "GET /pets/{a}/{b}", "/pets/dog/2"),
        ("GET /x", "ANY /x", "/x"),
        ("GET /x/y", "GET /x/{y}", "/x/y"),
    ]
    for better, worse, path in pairs:
        for plan in ([Route(better, WIKI, ""), Route(worse, MCP, "")],
                     [Route(worse, MCP, ""), Route(better, WIKI, "")]):  # fmt: skip
            assert select(plan, "GET", path).key == better, (better, worse, path)
    greedy = [Route("GET /pets/{proxy+}", MCP, ""), Route("$default", WIKI, "")]
    assert select(greedy, "GET", "/pets").key == "$default"
    assert select(greedy, "GET", "/pets/").key == "$default"
    assert select(greedy, "GET", "/pets/a/b").key == "GET /pets/{proxy+}"


def test_paths_under_the_mcp_endpoint_are_left_to_its_two_routes() -> None:
    from otterwiki_mcp.paths import DeclaredPath

    plan = build_plan([DeclaredPath("/mcp/messages", ("POST",)), DeclaredPath("/mcp", ("GET",))])
    assert [r.key for r in plan] == ["ANY /mcp", "ANY /mcp/{proxy+}", "$default"]


def test_wiki_paths_go_to_the_wiki_and_a_path_both_would_serve_is_refused() -> None:
    from otterwiki_mcp.paths import DeclaredPath

    token = DeclaredPath("/token", ("POST",))
    plan = build_plan([DeclaredPath("/register", ("POST",))], wiki_paths=[token])
    assert select(plan, "POST", "/token").key == "POST /token"
    assert match(plan, "POST", "/token") == WIKI and match(plan, "POST", "/register") == MCP
    for wiki in ([token], [DeclaredPath("/mcp", ("GET",))], [DeclaredPath("/mcp/x", ("GET",))]):
        with pytest.raises(ValueError, match="both the MCP app and the wiki"):
            build_plan([token], wiki_paths=wiki)


def test_the_plan_is_in_order_whatever_order_the_paths_are_declared_in() -> None:
    """By path, then method: `wikibot routes` and the stack see the same plan for the same
    routes, whichever app or declaration adds a method of a path first."""
    from otterwiki_mcp.paths import DeclaredPath

    mcp = [DeclaredPath("/x", ("POST",)), DeclaredPath("/x", ("GET",))]
    plan = build_plan(mcp, wiki_paths=[DeclaredPath("/a", ("PUT",)), DeclaredPath("/a", ("GET",))])
    assert [r.key for r in plan] == [
        "GET /a", "PUT /a", "ANY /mcp", "ANY /mcp/{proxy+}", "GET /x", "POST /x", "$default"
    ]  # fmt: skip


# -- the plan of the real MCP app ----------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(AUTH_ENVIRONMENTS))
def test_plan_of_the_real_mcp_app(mode: str) -> None:
    standalone = _standalone()
    environ = AUTH_ENVIRONMENTS[mode]
    plan = routeplan.configured_plan(environ)
    with routeplan._wikibot_environment(environ):
        declared = standalone.declared_paths(dict(routeplan.PLACEHOLDERS))
    assert declared, "the MCP app declares no path"
    assert_plan_serves(plan, declared)
    assert {"ANY /mcp", "ANY /mcp/{proxy+}", "$default"} <= {r.key for r in plan}
    if mode != "tokens":  # OAuth discovery must reach the MCP app
        assert match(plan, "GET", "/.well-known/oauth-protected-resource/mcp") == MCP


def test_configured_plan_uses_only_the_given_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _standalone()
    monkeypatch.setenv("WIKIBOT_MCP_AUTH", "not-a-mode")
    monkeypatch.setenv("WIKIBOT_MCP_PATH", "/elsewhere")
    plan = routeplan.configured_plan({**AUTH_ENVIRONMENTS["tokens"], "OTHER": "ignored"})
    assert match(plan, "POST", "/mcp") == MCP and match(plan, "POST", "/elsewhere") == WIKI
    assert os.environ["WIKIBOT_MCP_AUTH"] == "not-a-mode"
    assert "WIKIBOT_MCP_TOKEN" not in os.environ


def test_wikibot_routes_prints_the_plan(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _standalone()
    for key, value in AUTH_ENVIRONMENTS["authkit"].items():
        monkeypatch.setenv(key, value)
    assert cli.main(["routes"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["ROUTE", "TARGET", "WHY"]
    assert any(line.startswith("ANY /mcp ") and " mcp " in line for line in lines)
    assert lines[-1].startswith("$default") and " wiki " in lines[-1]


# -- the Pulumi program, against Pulumi's mocks --------------------------------------------------

REGION = "eu-west-1"
MODEL_ARN = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-embed-text-v2:0"
GIT_LAYER = f"arn:aws:lambda:{REGION}:123456789012:layer:git:1"
API_ENDPOINT = "https://abc123.execute-api.eu-west-1.amazonaws.com"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers every resource with its inputs plus the outputs the program reads, and records
    what was asked for."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.calls: list[pulumi.runtime.MockCallArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources.append(args)
        state = {"arn": f"arn:aws:mock:{REGION}:123456789012:{args.name}", **args.inputs}
        state.setdefault("name", args.name)
        if args.typ == "aws:s3/bucketObjectv2:BucketObjectv2":
            state["versionId"] = f"{args.name}-v1"  # only the upload knows it: a dependency
        if args.typ == "aws:lambda/function:Function":
            state["invokeArn"] = f"arn:aws:apigateway:{REGION}:lambda:path/{args.name}/invocations"
        elif args.typ == "aws:apigatewayv2/api:Api":
            state["apiEndpoint"] = API_ENDPOINT
            state["executionArn"] = f"arn:aws:execute-api:{REGION}:123456789012:abc123"
        elif args.typ == "aws:acm/certificate:Certificate":
            state["domainValidationOptions"] = [
                {
                    "domainName": args.inputs["domainName"],
                    "resourceRecordName": "_v.wiki.example.org.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": "_w.acm-validations.aws.",
                }
            ]
        elif args.typ == "aws:apigatewayv2/domainName:DomainName":
            config = dict(args.inputs["domainNameConfiguration"])
            config.update(targetDomainName="d-1.execute-api.aws", hostedZoneId="ZAPIGW")
            state["domainNameConfiguration"] = config
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        answers = {
            "aws:index/getRegion:getRegion": {"region": REGION, "name": REGION, "id": REGION},
            "aws:index/getPartition:getPartition": {"partition": "aws", "id": "aws"},
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "names": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
            },
            # zone a does not offer Bedrock's endpoint: the subnets must skip it
            "aws:ec2/getVpcEndpointService:getVpcEndpointService": {
                "availabilityZones": [f"{REGION}b", f"{REGION}c"],
            },
        }
        self.calls.append(args)
        return answers.get(args.token, {})


@dataclass
class Deployed:
    resources: list[Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> resource options
    calls: list[Any] = field(default_factory=list)  # the data sources the program asked for

    def of_type(self, typ: str) -> list[Any]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str) -> Any:
        (found,) = [r for r in self.of_type(typ) if r.name == name]
        return found

    def function(self, target: str) -> Any:
        return self.one("aws:lambda/function:Function", f"wikibot-{target}")


def settings(**overrides: Any) -> Any:
    from wikibot_infra.settings import StackSettings

    values: dict[str, Any] = {
        "git_layer_arn": GIT_LAYER,
        "secret_key": pulumi.Output.secret("flask-secret"),
        "api_key": pulumi.Output.secret("api-key"),
        "authkit_domain": "https://example.authkit.app",
        "domain": "wiki.example.org",
        "hosted_zone_id": "Z123",
        **overrides,
    }
    return StackSettings(**values)


def deploy(stack_settings: Any) -> Deployed:
    _standalone()  # the program builds the route plan from the real MCP app
    from wikibot_infra.program import build

    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="wikibot", stack="test", preview=False)
    deployed = Deployed(mocks.resources, calls=mocks.calls)

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        opts = args.opts
        deployed.options[args.name] = {
            "protect": opts.protect,
            "retain_on_delete": opts.retain_on_delete,
        }

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        pulumi.runtime.register_stack_transformation(record)
        return pulumi.Output.all(**build(stack_settings)).apply(deployed.outputs.update)

    run()
    return deployed


@pytest.fixture(scope="module")
def stack() -> Deployed:
    return deploy(settings())


def unwrap(value: Any) -> Any:
    """A mock input with Pulumi's secret wrappers taken off."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) and "value" in value:
            return unwrap(value["value"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def policy_of(stack: Deployed, target: str) -> list[dict]:
    policy = stack.one("aws:iam/rolePolicy:RolePolicy", f"wikibot-{target}-policy")
    return json.loads(unwrap(policy.inputs["policy"]))["Statement"]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def deployed_routes(stack: Deployed) -> dict[str, str]:
    """Route key -> the function (wiki or mcp) its integration invokes."""
    handlers = {"lambda_init.handler": WIKI, "lambda_init.mcp_handler": MCP}
    by_invoke_arn = {
        f"arn:aws:apigateway:{REGION}:lambda:path/{f.name}/invocations": handlers[
            f.inputs["handler"]
        ]
        for f in stack.of_type("aws:lambda/function:Function")
    }
    integrations = {
        f"integrations/{i.name}-id": by_invoke_arn[i.inputs["integrationUri"]]
        for i in stack.of_type("aws:apigatewayv2/integration:Integration")
    }
    return {
        r.inputs["routeKey"]: integrations[r.inputs["target"]]
        for r in stack.of_type("aws:apigatewayv2/route:Route")
    }


def test_each_route_targets_the_right_function(stack: Deployed) -> None:
    deployed = deployed_routes(stack)
    plan = routeplan.configured_plan(
        {
            "WIKIBOT_MCP_AUTH": "authkit",
            "WIKIBOT_MCP_AUTHKIT_DOMAIN": "https://example.authkit.app",
        }
    )
    assert deployed == {route.key: route.target for route in plan}
    assert deployed["$default"] == WIKI and deployed["ANY /mcp"] == MCP
    assert stack.outputs["routes"] == deployed
    for path in WIKI_PATHS:
        assert match(plan, "GET", path) == WIKI


def test_integrations_stage_and_permissions(stack: Deployed) -> None:
    for integration in stack.of_type("aws:apigatewayv2/integration:Integration"):
        assert integration.inputs["integrationType"] == "AWS_PROXY"
        assert integration.inputs["payloadFormatVersion"] == "2.0"
    (stage,) = stack.of_type("aws:apigatewayv2/stage:Stage")
    assert stage.inputs["name"] == "$default" and stage.inputs["autoDeploy"] is True
    permissions = stack.of_type("aws:lambda/permission:Permission")
    assert sorted(p.inputs["function"] for p in permissions) == ["wikibot-mcp", "wikibot-wiki"]
    for permission in permissions:
        assert permission.inputs["principal"] == "apigateway.amazonaws.com"
        assert permission.inputs["sourceArn"].endswith(":abc123/*/*")


def test_wiki_function_is_in_the_vpc_with_the_efs_mount(stack: Deployed) -> None:
    wiki = stack.function("wiki")
    subnets = [s.name + "-id" for s in stack.of_type("aws:ec2/subnet:Subnet")]
    assert wiki.inputs["handler"] == "lambda_init.handler"
    assert sorted(wiki.inputs["vpcConfig"]["subnetIds"]) == sorted(subnets) and len(subnets) == 2
    assert wiki.inputs["vpcConfig"]["securityGroupIds"] == ["wikibot-net-function-sg-id"]
    access_point = stack.one("aws:efs/accessPoint:AccessPoint", "wikibot-storage-ap")
    assert wiki.inputs["fileSystemConfig"] == {
        "arn": f"arn:aws:mock:{REGION}:123456789012:{access_point.name}",
        "localMountPath": "/mnt/wiki",
    }
    assert wiki.inputs["layers"] == [GIT_LAYER]
    assert len(stack.of_type("aws:efs/mountTarget:MountTarget")) == 2
    env = wiki.inputs["environment"]
    assert env.get(SECRET_SIG), "the environment holds secrets and must stay a Pulumi secret"
    variables = unwrap(env)["variables"]
    assert variables["REPOSITORY"].startswith("/mnt/wiki/")
    assert variables["SECRET_KEY"] == "flask-secret" and variables["WIKIBOT_API_KEY"] == "api-key"
    assert variables["WIKIBOT_ACCESS"] == "private"  # a fresh deploy is not open to the world
    assert "WIKIBOT_OWNER_EMAIL" not in variables  # nobody registers as admin without one


def test_without_a_layer_arn_the_stack_makes_the_git_layer() -> None:
    deployed = deploy(settings(git_layer_arn=None))
    (layer,) = deployed.of_type("aws:lambda/layerVersion:LayerVersion")
    assert layer.inputs["compatibleRuntimes"] == ["python3.12"]
    assert layer.inputs["compatibleArchitectures"] == ["x86_64"]
    upload = deployed.one("aws:s3/bucketObjectv2:BucketObjectv2", "wikibot-git-layer-code")
    assert layer.inputs["s3Key"] == upload.inputs["key"] == "wikibot-git-layer.zip"
    wiki = deployed.function("wiki")
    assert wiki.inputs["layers"] == [f"arn:aws:mock:{REGION}:123456789012:{layer.name}"]
    # with gitLayerArn given, the stack makes no layer of its own
    assert deploy(settings()).of_type("aws:lambda/layerVersion:LayerVersion") == []


def test_functions_wait_for_their_uploaded_code_and_pin_its_version(stack: Deployed) -> None:
    """Each function takes bucket, key and object version from its upload's outputs, so it is
    created after the upload and deploys exactly the zip uploaded (versioned bucket)."""
    versioning = stack.one(
        "aws:s3/bucketVersioningV2:BucketVersioningV2", "wikibot-code-versioning"
    )
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    for target in (WIKI, MCP):
        function = stack.function(target)
        upload = stack.one("aws:s3/bucketObjectv2:BucketObjectv2", f"wikibot-{target}-code")
        assert function.inputs["s3Key"] == upload.inputs["key"]
        assert function.inputs["s3ObjectVersion"] == f"wikibot-{target}-code-v1"


def test_the_wiki_file_system_is_protected_and_reached_only_over_tls_and_its_access_point(
    stack: Deployed,
) -> None:
    fs = stack.one("aws:efs/fileSystem:FileSystem", "wikibot-storage-fs")
    options = stack.options[fs.name]
    assert options["protect"] and options["retain_on_delete"]
    policy = stack.one("aws:efs/fileSystemPolicy:FileSystemPolicy", "wikibot-storage-policy")
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["TlsOnly"]["Effect"] == "Deny"
    assert statements["TlsOnly"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    only = statements["AccessPointOnly"]["Condition"]["StringNotEquals"]
    assert only["elasticfilesystem:AccessPointArn"].endswith(":wikibot-storage-ap")


def test_the_api_is_throttled_and_reached_only_through_its_domain(stack: Deployed) -> None:
    stage = stack.one("aws:apigatewayv2/stage:Stage", "wikibot-stage")
    limits = stage.inputs["defaultRouteSettings"]
    assert limits["throttlingRateLimit"] == 50 and limits["throttlingBurstLimit"] == 100
    assert stack.one("aws:apigatewayv2/api:Api", "wikibot-api").inputs["disableExecuteApiEndpoint"]
    bare = deploy(settings(domain=None, hosted_zone_id=None, throttle_rate=5, throttle_burst=9))
    api = bare.one("aws:apigatewayv2/api:Api", "wikibot-api")
    assert not api.inputs["disableExecuteApiEndpoint"]  # then it is the only way in
    limits = bare.one("aws:apigatewayv2/stage:Stage", "wikibot-stage").inputs
    assert limits["defaultRouteSettings"]["throttlingRateLimit"] == 5
    with pytest.raises(ValueError, match="throttleRate"):
        settings(throttle_rate=0)


def test_subnets_use_zones_without_opt_in_that_offer_bedrock(stack: Deployed) -> None:
    from wikibot_infra.network import usable_zones

    zones = [s.inputs["availabilityZone"] for s in stack.of_type("aws:ec2/subnet:Subnet")]
    assert sorted(zones) == [f"{REGION}b", f"{REGION}c"]
    (asked,) = [c for c in stack.calls if c.token.endswith("getAvailabilityZones")]
    assert asked.args["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    with pytest.raises(ValueError, match="lower azCount"):
        usable_zones(["a", "b"], ["b"], 2)
    assert usable_zones(["x-lz-1", "a", "b"], ["a", "b"], 2) == ["a", "b"]


def test_timeouts_are_in_order(stack: Deployed) -> None:
    """MCP -> wiki call < MCP function < gateway; the wiki function ends before the gateway."""
    wiki, mcp = stack.function(WIKI), stack.function(MCP)
    variables = unwrap(mcp.inputs["environment"])["variables"]
    integrations = stack.of_type("aws:apigatewayv2/integration:Integration")
    gateway = min(i.inputs["timeoutMilliseconds"] for i in integrations) / 1000
    assert float(variables["WIKIBOT_MCP_HTTP_TIMEOUT"]) < mcp.inputs["timeout"] < gateway
    assert wiki.inputs["timeout"] < gateway <= 30


def test_a_package_built_for_another_runtime_is_refused(tmp_path) -> None:
    import zipfile

    package = tmp_path / "lambda-wiki.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("wikibot-package.json", '{"runtime": "python3.11", "architecture": "x86_64"}')
    with pytest.raises(ValueError, match="built for python3.11"):
        deploy(settings(wiki_code=str(package)))
    with pytest.raises(ValueError, match="arm64"):
        deploy(settings(wiki_code=str(package), runtime="python3.11", architecture="arm64"))
    assert deploy(settings(wiki_code=str(package), runtime="python3.11")).function("wiki")


def test_an_mcp_package_built_from_other_route_code_is_refused(tmp_path) -> None:
    """The stack plans the routes with the MCP plugin installed here; a package recording
    other plugin sources or route-library versions would serve other paths than are routed."""
    import zipfile

    from wikibot import routeplan

    here = routeplan.route_code()

    def package(routes: dict[str, str]) -> str:
        path = tmp_path / f"mcp-{len(list(tmp_path.iterdir()))}.zip"
        record = {"runtime": "python3.12", "architecture": "x86_64", "routes": routes}
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("wikibot-package.json", json.dumps(record))
        return str(path)

    assert deploy(settings(mcp_code=package(here))).function(MCP)
    with pytest.raises(ValueError, match="otterwiki_mcp 0+ in the package"):
        deploy(settings(mcp_code=package({**here, "otterwiki_mcp": "0" * 64})))
    with pytest.raises(ValueError, match=r"fastmcp 0\.1 in the package, \S+ here"):
        deploy(settings(mcp_code=package({**here, "fastmcp": "0.1"})))


def test_functions_carry_lambdas_own_hash_of_their_zip(tmp_path) -> None:
    """`code_sha256` is what Lambda reports as CodeSha256 (base64 SHA-256 of the zip), so a
    refresh notices code changed outside Pulumi; `source_code_hash` would not."""
    import base64
    import hashlib
    import zipfile

    package = tmp_path / "lambda-mcp.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("lambda_init.py", "")
    expected = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
    function = deploy(settings(mcp_code=str(package))).function(MCP)
    assert function.inputs["codeSha256"] == expected
    assert "sourceCodeHash" not in function.inputs


def test_the_file_system_is_backed_up_on_a_schedule(stack: Deployed) -> None:
    plan = stack.one("aws:backup/plan:Plan", "wikibot-backups-plan")
    (rule,) = plan.inputs["rules"]
    assert rule["schedule"] == "cron(0 3 * * ? *)" and rule["lifecycle"]["deleteAfter"] == 35
    assert rule["targetVaultName"] == "wikibot-backups-vault"  # the mock names it by its name
    selection = stack.one("aws:backup/selection:Selection", "wikibot-backups-selection")
    fs = stack.one("aws:efs/fileSystem:FileSystem", "wikibot-storage-fs")
    assert selection.inputs["resources"] == [f"arn:aws:mock:{REGION}:123456789012:{fs.name}"]
    role = stack.one("aws:iam/role:Role", "wikibot-backups-role")
    assert "backup.amazonaws.com" in role.inputs["assumeRolePolicy"]
    assert stack.outputs["backup_vault"] == "wikibot-backups-vault"
    without = deploy(settings(backups=False))
    assert without.of_type("aws:backup/plan:Plan") == []
    with pytest.raises(ValueError, match="backupRetentionDays"):
        settings(backup_retention_days=0)


def test_access_owner_and_otterwiki_settings_reach_the_wiki_function() -> None:
    from wikibot_infra.settings import ACCESS_PRESETS as STACK_PRESETS

    from lambda_init import ACCESS_PRESETS

    assert set(STACK_PRESETS) == set(ACCESS_PRESETS)
    chosen = settings(
        access="public",
        owner_email="owner@example.org",
        otterwiki_settings={"SITE_NAME": "Team wiki", "WRITE_ACCESS": "REGISTERED"},
    )
    variables = unwrap(deploy(chosen).function("wiki").inputs["environment"])["variables"]
    assert variables["WIKIBOT_ACCESS"] == "public"
    assert variables["WIKIBOT_OWNER_EMAIL"] == "owner@example.org"
    assert variables["SITE_NAME"] == "Team wiki" and variables["WRITE_ACCESS"] == "REGISTERED"
    with pytest.raises(ValueError, match="wikibot:access"):
        settings(access="everyone")
    with pytest.raises(ValueError, match="wikibot:otterwiki"):
        settings(otterwiki_settings={"SECRET_KEY": "sneaky"})


def test_mcp_function_is_outside_any_vpc(stack: Deployed) -> None:
    mcp = stack.function("mcp")
    assert mcp.inputs["handler"] == "lambda_init.mcp_handler"
    assert "vpcConfig" not in mcp.inputs and "fileSystemConfig" not in mcp.inputs
    variables = unwrap(mcp.inputs["environment"])["variables"]
    assert variables["WIKIBOT_API_URL"] == variables["WIKIBOT_MCP_BASE_URL"]
    assert variables["WIKIBOT_API_URL"] == "https://wiki.example.org"
    assert variables["WIKIBOT_MCP_AUTH"] == "authkit"


def test_wiki_mode_routes_the_oauth_paths_to_the_wiki_and_configures_both_functions() -> None:
    """mcpAuth `wiki`: no identity provider. The wiki function (EFS) is the authorization
    server, so its declared OAuth paths are routed to it; the MCP function verifies its tokens."""
    stack = deploy(settings(mcp_auth="wiki", authkit_domain=None))
    deployed = deployed_routes(stack)
    for key in (
        "GET /.well-known/oauth-authorization-server",
        "GET /.well-known/jwks.json",
        "GET /authorize",
        "POST /token",
        "POST /register",
        "POST /revoke",
        "POST /oauth/approve",
    ):
        assert deployed[key] == WIKI, key
    assert deployed["ANY /mcp"] == MCP
    assert deployed["GET /.well-known/oauth-protected-resource/mcp"] == MCP
    assert stack.outputs["routes"] == deployed
    wiki = unwrap(stack.function("wiki").inputs["environment"])["variables"]
    assert wiki["WIKIBOT_MCP_AUTH"] == "wiki" and wiki["WIKIBOT_MCP_ENABLED"] == "false"
    assert wiki["WIKIBOT_MCP_STATE_PATH"].startswith("/mnt/wiki/")  # on EFS, with its keys
    assert wiki["WIKIBOT_MCP_BASE_URL"] == "https://wiki.example.org"
    mcp = unwrap(stack.function("mcp").inputs["environment"])["variables"]
    assert mcp["WIKIBOT_MCP_AUTH"] == "wiki" and "WIKIBOT_MCP_AUTHKIT_DOMAIN" not in mcp
    assert mcp["WIKIBOT_API_URL"] == mcp["WIKIBOT_MCP_BASE_URL"] == wiki["WIKIBOT_MCP_BASE_URL"]


def test_wiki_mode_refuses_a_wiki_package_without_the_mcp_libraries(tmp_path) -> None:
    import zipfile

    package = tmp_path / "lambda-wiki.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("otterwiki/__init__.py", "")
    with pytest.raises(ValueError, match="mcpAuth wiki"):
        deploy(settings(mcp_auth="wiki", authkit_domain=None, wiki_code=str(package)))
    assert deploy(settings(wiki_code=str(package))).function("wiki")  # authkit: not needed
    with zipfile.ZipFile(package, "a") as zf:
        for name in ("otterwiki_mcp", "fastmcp", "mcp", "a2wsgi"):
            zf.writestr(f"{name}/__init__.py", "")
    assert deploy(settings(mcp_auth="wiki", authkit_domain=None, wiki_code=str(package)))


def test_network_has_no_internet_path_and_an_endpoint_for_bedrock(stack: Deployed) -> None:
    kinds = {r.typ for r in stack.resources}
    assert not kinds & {"aws:ec2/natGateway:NatGateway", "aws:ec2/internetGateway:InternetGateway"}
    endpoint = stack.one("aws:ec2/vpcEndpoint:VpcEndpoint", "wikibot-net-bedrock")
    assert endpoint.inputs["serviceName"] == f"com.amazonaws.{REGION}.bedrock-runtime"
    assert endpoint.inputs["vpcEndpointType"] == "Interface"
    assert endpoint.inputs["privateDnsEnabled"] is True
    (statement,) = json.loads(endpoint.inputs["policy"])["Statement"]
    assert statement["Action"] == "bedrock:InvokeModel" and statement["Resource"] == MODEL_ARN


def test_large_answers_go_through_a_private_expiring_bucket(stack: Deployed) -> None:
    bucket = stack.one("aws:s3/bucket:Bucket", "wikibot-answers")
    block = stack.one(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "wikibot-answers-private"
    )
    assert block.inputs["bucket"] == f"{bucket.name}-id"
    assert all(
        block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
    )
    typ = (
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
    )
    assert stack.one(typ, "wikibot-answers-encryption").inputs["rules"][0]
    typ = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
    (rule,) = stack.one(typ, "wikibot-answers-expiry").inputs["rules"]
    assert rule["expiration"]["days"] == 1 and rule["status"] == "Enabled"
    endpoint = stack.one("aws:ec2/vpcEndpoint:VpcEndpoint", "wikibot-answers-s3")
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == f"com.amazonaws.{REGION}.s3"
    (statement,) = json.loads(endpoint.inputs["policy"])["Statement"]
    assert statement["Resource"].endswith(":wikibot-answers/answers/*")
    variables = unwrap(stack.function("wiki").inputs["environment"])["variables"]
    assert variables["WIKIBOT_LARGE_RESPONSE_BUCKET"] == "wikibot-answers-id"


def test_iam_grants_name_only_what_each_function_needs(stack: Deployed) -> None:
    for target in (WIKI, MCP):
        for statement in policy_of(stack, target):
            actions, resources = as_list(statement["Action"]), as_list(statement["Resource"])
            assert all("*" not in action for action in actions), statement
            if statement["Sid"] == "DescribeNetwork":  # AWS allows these only on "*"
                assert actions == ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
                continue
            assert "*" not in resources, statement
    wiki = {s["Sid"]: s for s in policy_of(stack, WIKI)}
    assert set(wiki) == {
        "Logs",
        "Embed",
        "Repository",
        "LargeAnswers",
        "Environment",
        "CreateInterfaces",
        "ManageInterfaces",
        "DescribeNetwork",
    }
    # the VPC attachment: interfaces only in the function's subnets, with its security group
    account = f"arn:aws:mock:{REGION}:123456789012"
    subnets = [f"{account}:wikibot-net-private-{i}" for i in (0, 1)]
    created = wiki["CreateInterfaces"]["Resource"]
    assert created == [
        f"{account}:network-interface/*",
        *subnets,
        f"{account}:wikibot-net-function-sg",
    ]
    assert wiki["ManageInterfaces"]["Resource"] == created[0]
    from wikibot_infra import policies

    real = "arn:aws:ec2:eu-west-1:123456789012"  # ARNs as AWS writes them (the mocks do not)
    (create, *_) = policies.network_interfaces([f"{real}:subnet/subnet-1"], f"{real}:sg")
    assert create["Resource"][0] == f"{real}:network-interface/*"
    key = stack.one("aws:kms/key:Key", "wikibot-env-key")
    assert key.inputs["enableKeyRotation"]
    for target in (WIKI, MCP):  # secrets in the environment, encrypted with the stack's key
        assert stack.function(target).inputs["kmsKeyArn"].endswith(":wikibot-env-key")
        environment = {s["Sid"]: s for s in policy_of(stack, target)}["Environment"]
        assert environment["Action"] == "kms:Decrypt"
        assert environment["Resource"].endswith(":wikibot-env-key")
    assert wiki["LargeAnswers"]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert wiki["LargeAnswers"]["Resource"].endswith(":wikibot-answers/answers/*")
    assert wiki["Embed"]["Action"] == "bedrock:InvokeModel"
    assert wiki["Embed"]["Resource"] == MODEL_ARN
    assert wiki["Repository"]["Resource"].endswith(":wikibot-storage-fs")
    access_point = wiki["Repository"]["Condition"]["StringEquals"]
    assert access_point == {
        "elasticfilesystem:AccessPointArn": f"arn:aws:mock:{REGION}:123456789012:wikibot-storage-ap"
    }
    assert wiki["Logs"]["Resource"][0].endswith(":wikibot-wiki-logs")
    mcp = policy_of(stack, MCP)
    assert [s["Sid"] for s in mcp] == ["Logs", "Environment"]
    assert mcp[0]["Resource"][0].endswith(":wikibot-mcp-logs")

    attachments = stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [(a.inputs["role"], a.inputs["policyArn"].rsplit("/", 1)[-1]) for a in attachments] == [
        ("wikibot-backups-role", "AWSBackupServiceRolePolicyForBackup"),
        ("wikibot-backups-role", "AWSBackupServiceRolePolicyForRestores"),
    ]  # the functions' roles have inline policies only (the managed VPC one grants logs on *)
    for role in stack.of_type("aws:iam/role:Role"):
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        service = "backup" if role.name == "wikibot-backups-role" else "lambda"
        assert trust["Principal"] == {"Service": f"{service}.amazonaws.com"}


def test_custom_domain_certificate_and_mapping(stack: Deployed) -> None:
    (domain,) = stack.of_type("aws:apigatewayv2/domainName:DomainName")
    assert domain.inputs["domainName"] == "wiki.example.org"
    assert domain.inputs["domainNameConfiguration"]["endpointType"] == "REGIONAL"
    (cert,) = stack.of_type("aws:acm/certificate:Certificate")
    assert cert.inputs["validationMethod"] == "DNS"
    assert len(stack.of_type("aws:apigatewayv2/apiMapping:ApiMapping")) == 1
    records = {r.name for r in stack.of_type("aws:route53/record:Record")}
    assert records == {"wikibot-cert-validation", "wikibot-alias"}
    assert stack.outputs["url"] == "https://wiki.example.org"
    assert stack.outputs["mcp_url"] == "https://wiki.example.org/mcp"


def test_without_a_domain_the_api_endpoint_is_the_url() -> None:
    bare = deploy(
        settings(
            domain=None,
            hosted_zone_id=None,
            mcp_auth="tokens",
            mcp_token=pulumi.Output.secret("t0ken"),
            az_count=1,
        )
    )
    assert not bare.of_type("aws:apigatewayv2/domainName:DomainName")
    assert not bare.of_type("aws:acm/certificate:Certificate")
    assert bare.outputs["url"] == API_ENDPOINT
    variables = unwrap(bare.function("mcp").inputs["environment"])["variables"]
    assert variables["WIKIBOT_MCP_BASE_URL"] == API_ENDPOINT
    assert variables["WIKIBOT_MCP_TOKEN"] == "t0ken"
    keys = {r.inputs["routeKey"] for r in bare.of_type("aws:apigatewayv2/route:Route")}
    assert keys == {"ANY /mcp", "ANY /mcp/{proxy+}", "$default"}  # tokens: no OAuth paths
    assert len(bare.of_type("aws:ec2/subnet:Subnet")) == 1


def test_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="no shared storage"):
        settings(mcp_auth="local")
    with pytest.raises(ValueError, match="authkitDomain"):
        settings(authkit_domain=None)
    with pytest.raises(ValueError, match="mcpToken"):
        settings(mcp_auth="tokens")
    with pytest.raises(ValueError, match="needs wikibot:domain"):
        settings(domain=None)


def test_settings_from_stack_config() -> None:
    from wikibot_infra.settings import from_config

    pulumi.runtime.set_mocks(RecordingMocks(), project="wikibot", stack="test", preview=False)
    pulumi.runtime.set_all_config(
        {
            "wikibot:gitLayerArn": GIT_LAYER,
            "wikibot:secretKey": "s",
            "wikibot:apiKey": "k",
            "wikibot:authkitDomain": "https://example.authkit.app",
            "wikibot:wikiMemory": "2048",
        },
        secret_keys=["wikibot:secretKey", "wikibot:apiKey"],
    )
    try:
        loaded = from_config(pulumi.Config("wikibot"))
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])
    assert loaded.wiki_memory == 2048 and loaded.mcp_memory == 512
    assert loaded.domain is None and loaded.mcp_auth == "authkit"
    assert isinstance(loaded.secret_key, pulumi.Output) and isinstance(
        loaded.api_key, pulumi.Output
    )


def test_the_program_entry_point_runs_from_stack_config() -> None:
    """infra/__main__.py as `pulumi up` runs it: config -> settings -> resources -> exports."""
    import runpy

    _standalone()
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="wikibot", stack="test", preview=False)
    pulumi.runtime.set_all_config(
        {
            "wikibot:gitLayerArn": GIT_LAYER,
            "wikibot:secretKey": "s",
            "wikibot:apiKey": "k",
            "wikibot:mcpAuth": "tokens",
            "wikibot:mcpToken": "t",
        },
        secret_keys=["wikibot:secretKey", "wikibot:apiKey", "wikibot:mcpToken"],
    )

    @pulumi.runtime.test
    def run() -> None:
        runpy.run_path(os.path.join(ROOT, "infra", "__main__.py"), run_name="__main__")

    try:
        run()
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])
    functions = {f.name for f in mocks.resources if f.typ == "aws:lambda/function:Function"}
    assert functions == {"wikibot-wiki", "wikibot-mcp"}


def test_functions_take_their_code_from_a_private_bucket(stack: Deployed) -> None:
    """Both packages are over the 50 MB direct-upload limit, so the code goes through S3."""
    bucket = stack.one("aws:s3/bucket:Bucket", "wikibot-code")
    block = stack.one(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "wikibot-code-private"
    )
    assert all(
        block.inputs[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    objects = {o.name: o for o in stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    for target in ("wiki", "mcp"):
        function = stack.function(target)
        assert function.inputs["s3Bucket"] == f"{bucket.name}-id"
        assert function.inputs["s3Key"] == f"wikibot-{target}.zip"
        assert objects[f"wikibot-{target}-code"].inputs["key"] == f"wikibot-{target}.zip"
        assert "code" not in function.inputs


def test_code_hash_follows_the_package(tmp_path) -> None:
    from wikibot_infra.artifacts import code_hash

    package = tmp_path / "p.zip"
    assert code_hash(str(package)) is None
    package.write_bytes(b"one")
    first = code_hash(str(package))
    package.write_bytes(b"two")
    assert first and code_hash(str(package)) not in (None, first)
