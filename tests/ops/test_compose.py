"""Static checks of docker-compose.yml and the files it mounts (no Docker engine here): the Compose
Specification's JSON schema, depends_on targets, health checks, VERITEXT_* variables against the
settings classes, commands against the CLI, ports agreeing between NGINX, compose, the component
settings and Prometheus, and the original RabbitMQ clients' user's permissions against the bridge's
queue names; plus the Grafana dashboard against the metrics the code exposes."""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import crossplane
import jsonschema
import pytest
import yaml

from ingest.bridge.settings import BridgeSettings
from ingest.gateway.settings import GatewaySettings
from tests.ops.catalogue import ROOT, cli_commands, exposed_metric_names, settings_variables

COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = Path(__file__).parent / "compose_spec" / "compose-spec.json"
DOCKERFILE = ROOT / "Dockerfile"
WORKER_METRICS_PORTS = {
    "scorer": "VERITEXT_SCORER_METRICS_PORT",
    "sink": "VERITEXT_SINK_METRICS_PORT",
    "bridge": "VERITEXT_RABBITMQ_METRICS_PORT",
    "bot": "VERITEXT_TELEGRAM_METRICS_PORT",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _veritext_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _services(compose).items() if str(s.get("image", "")).startswith("veritext:")}


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _port_in(test: list[str]) -> int:
    """The port of the URL a health check command calls."""
    url = re.search(r"https?://[^\s'\"]+", " ".join(test))
    assert url, f"no URL in health check {test}"
    return urlparse(url.group()).port or 80


def test_compose_file_follows_the_compose_specification(compose):
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, "\n".join(errors)


def test_the_schema_check_can_fail(compose):
    broken = {**compose, "services": {**compose["services"], "x": {"image": "a", "healthcheck": {"test": 5}}}}
    assert not jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).is_valid(broken)


def test_every_depends_on_target_exists_and_every_long_running_service_has_a_health_check(compose):
    services = _services(compose)
    for name, service in services.items():
        targets = service.get("depends_on", {})
        for target in targets if isinstance(targets, list) else targets.keys():
            assert target in services, f"{name} depends on {target}, which is no service"
            condition = targets[target]["condition"] if isinstance(targets, dict) else "service_started"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy; it has no check"
            if condition == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} is a job: it must not restart"
        if service.get("restart") != "no":
            assert "healthcheck" in service, f"{name} has no health check"


def test_every_veritext_variable_exists_in_the_settings_and_every_required_one_is_set(compose):
    known = settings_variables()
    owners = {v.owner for v in known.values()}
    assert {"KafkaSettings", "GatewaySettings", "ScorerSettings", "SinkSettings", "DatabaseSettings"} <= owners
    veritext = _veritext_services(compose)
    assert {"gateway", "scorer", "sink", "bridge", "migrate"} <= set(veritext)
    for name, service in veritext.items():
        env = _environment(service)
        unknown = sorted(v for v in env if v.startswith("VERITEXT_") and v not in known)
        assert not unknown, f"{name} sets variables no settings class reads: {unknown}"
        missing = sorted(v.name for v in known.values() if v.required and v.name not in env)
        assert not missing, f"{name} lacks required settings: {missing}"
    for name, service in _services(compose).items():
        if name not in veritext:
            assert not [v for v in _environment(service) if v.startswith("VERITEXT_")], name


def test_veritext_services_run_cli_commands_of_an_image_target_the_dockerfile_builds(compose):
    commands = cli_commands()
    targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", DOCKERFILE.read_text(), re.M | re.I))
    for name, service in _veritext_services(compose).items():
        assert service["command"][0] in commands, f"{name} runs `veritext {service['command'][0]}`: no such command"
        assert service["build"]["target"] in targets, f"{name} builds target {service['build']['target']}"
        assert service["image"] == f"veritext:{service['build']['target']}", name


def test_mounted_files_exist(compose):
    for name, service in _services(compose).items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"


def test_ports_agree_between_nginx_compose_the_gateway_settings_and_the_health_checks(compose):
    services = _services(compose)
    gateway = services["gateway"]
    port = int(_environment(gateway).get("VERITEXT_GATEWAY_PORT", GatewaySettings().port))
    assert [str(p) for p in gateway["expose"]] == [str(port)]
    assert _port_in(gateway["healthcheck"]["test"]) == port

    parsed = crossplane.parse(str(ROOT / "deploy/nginx/nginx.conf"), check_ctx=True, check_args=True)
    assert parsed["status"] == "ok", parsed["errors"]
    directives = [d for config in parsed["config"] for d in _flatten(config["parsed"])]  # with the includes
    upstream_servers = [d["args"][0] for d in directives if d["directive"] == "server" and d["args"]]
    assert upstream_servers == [f"gateway:{port}"]
    listen = [int(d["args"][0]) for d in directives if d["directive"] == "listen"]
    published = [int(p.split(":")[-1]) for p in services["nginx"]["ports"]]
    assert listen == published
    assert _port_in(services["nginx"]["healthcheck"]["test"]) in listen
    passes = [d["args"][0] for d in directives if d["directive"] == "proxy_pass"]
    upstreams = [d["args"][0] for d in directives if d["directive"] == "upstream"]
    assert set(passes) == {f"http://{u}" for u in upstreams}

    for worker, setting in WORKER_METRICS_PORTS.items():
        metrics = int(_environment(services[worker])[setting])
        assert metrics > 0, f"{worker} serves no metrics"
        assert [str(p) for p in services[worker]["expose"]] == [str(metrics)]
        assert _port_in(services[worker]["healthcheck"]["test"]) == metrics


def _flatten(block: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for directive in block:
        found.append(directive)
        found.extend(_flatten(directive.get("block", [])))
    return found


def test_prometheus_scrapes_every_component_on_its_metrics_port(compose):
    services = _services(compose)
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets.update(static["targets"])
        for dns in job.get("dns_sd_configs", []):
            targets.update(f"{name}:{dns['port']}" for name in dns["names"])
    gateway_port = _environment(services["gateway"]).get("VERITEXT_GATEWAY_PORT", str(GatewaySettings().port))
    expected = {f"gateway:{gateway_port}"} | {
        f"{worker}:{_environment(services[worker])[setting]}" for worker, setting in WORKER_METRICS_PORTS.items()
    }
    assert expected <= targets
    long_running = {n for n, s in _veritext_services(compose).items() if s.get("restart") != "no"}
    assert long_running == {t.split(":")[0] for t in targets if t.split(":")[0] in services}, "a component unscraped"
    scorer_jobs = [
        j for j in config["scrape_configs"] if any("scorer" in d["names"] for d in j.get("dns_sd_configs", []))
    ]
    assert scorer_jobs, "the scorer replicas are found by DNS, one target each"


def test_grafana_dashboard_uses_only_metrics_the_components_expose(compose):
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/veritext.json").read_text())
    exposed = exposed_metric_names()
    used = set()
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 10
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used.update(re.findall(r"\b(?:veritext|process)_[a-z_]+\b", target["expr"]))
    assert used - exposed == set(), f"the dashboard queries metrics nothing exposes: {used - exposed}"
    families = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in used}
    for wanted in ("veritext_gateway_requests", "veritext_consumer_lag", "veritext_end_to_end_seconds"):
        assert wanted in families

    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    [source] = datasource["datasources"]
    [variable] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert variable["current"]["value"] == source["uid"]
    assert urlparse(source["url"]).hostname in _services(compose)
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/veritext.yml").read_text())
    mounts = {v.split(":")[1]: v.split(":")[0] for v in _services(compose)["grafana"]["volumes"]}
    [entry] = provider["providers"]
    assert (ROOT / mounts[entry["options"]["path"]] / "veritext.json").exists()


def test_no_default_password_and_only_the_entry_points_listen_on_every_interface(compose):
    services = _services(compose)
    for name, service in services.items():
        for variable, value in _environment(service).items():
            if re.search(r"PASS(WORD)?$", variable):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), f"{name} sets {variable} to a default"
            for password in re.findall(r"://[^:/@]+:([^@]+)@", value):
                assert password.startswith("${") and ":?" in password, f"{name}: {variable} holds a password"
        for published in service.get("ports", []):
            public = not re.match(r"(127\.0\.0\.1|\$\{\w+:-127\.0\.0\.1\}):", str(published))
            assert not public or (name, str(published)) in {("nginx", "8080:80")}, (
                f"{name} publishes {published} on every interface"
            )
    gateway = _environment(services["gateway"])
    assert gateway["VERITEXT_AUTH"] == "api-keys"
    assert gateway["VERITEXT_AUTH_LIMITS_STORAGE"].startswith("redis://redis:")
    assert "redis" in services["gateway"]["depends_on"]


def test_nginx_bounds_bodies_per_route_and_has_a_tls_server_ready_for_a_certificate():
    parsed = crossplane.parse(str(ROOT / "deploy/nginx/nginx.conf"), check_ctx=True, check_args=True)
    locations = next(c for c in parsed["config"] if c["file"].endswith("locations.conf"))["parsed"]
    assert ["1m"] in [d["args"] for d in locations if d["directive"] == "client_max_body_size"]
    batches = next(d for d in locations if d["directive"] == "location" and d["args"] == ["=", "/v1/batches"])
    assert {"directive": "client_max_body_size", "line": batches["block"][0]["line"], "args": ["256m"]} in batches[
        "block"
    ]
    documents = next(d for d in locations if d["directive"] == "location" and d["args"] == ["=", "/v1/documents"])
    assert GatewaySettings().document_max_bytes == 20 * 2**20
    assert ["20m"] in [d["args"] for d in documents["block"] if d["directive"] == "client_max_body_size"]

    tls = crossplane.parse(str(ROOT / "deploy/nginx/tls-server.conf"), check_ctx=False, check_args=True)
    assert tls["status"] == "ok", tls["errors"]
    server = _flatten(tls["config"][0]["parsed"])
    directives = {d["directive"]: d["args"] for d in server}
    assert directives["listen"] == ["443", "ssl"]
    assert directives["ssl_certificate"] == ["/etc/nginx/certs/tls.crt"]
    assert directives["include"] == ["locations.conf"]
    override = yaml.safe_load((ROOT / "docker-compose.tls.yml").read_text())["services"]["nginx"]
    assert "8443:443" in override["ports"]
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in override["volumes"])
    assert mounts["./deploy/nginx/tls-server.conf"] == "/etc/nginx/tls/server.conf"  # nginx.conf includes tls/*.conf
    assert all((ROOT / source).exists() for source in mounts)


def test_the_original_rabbitmq_clients_have_a_user_that_can_send_tasks_and_read_only_their_replies(compose):
    rabbitmq = _services(compose)["rabbitmq"]
    script = ROOT / "deploy" / "rabbitmq" / "start.sh"
    assert rabbitmq["entrypoint"] == ["sh", "/etc/veritext/rabbitmq-start.sh"]
    assert "./deploy/rabbitmq/start.sh:/etc/veritext/rabbitmq-start.sh:ro" in rabbitmq["volumes"]
    assert (
        _environment(rabbitmq)["RABBITMQ_LEGACY_PASSWORD"]
        == "${RABBITMQ_LEGACY_PASSWORD:?set RABBITMQ_LEGACY_PASSWORD}"
    )
    bridge_url = _environment(_services(compose)["bridge"])["VERITEXT_RABBITMQ_URL"]
    assert bridge_url.startswith("amqp://veritext:"), "the bridge is the administrator, not the clients' user"
    found = re.search(r"set_permissions -p / legacy '([^']+)' '([^']+)' '([^']+)'", script.read_text())
    assert found, "the script grants the legacy user its permissions"
    configure, write, read = (re.compile(p) for p in found.groups())
    bridge = BridgeSettings.model_construct()  # the default queue names the bridge declares (compose sets none)
    reply_queue = "amq.gen-A2NSfp9Kqqpsd0mcYAMoBQ"  # a server-named exclusive queue
    assert configure.search(bridge.queue) and configure.search(reply_queue)
    assert write.search("amq.default") and read.search(reply_queue)
    for other in (bridge.dead_letter_queue, bridge.results_exchange, "anything-else"):
        assert not (configure.search(other) or write.search(other) or read.search(other)), other
    assert not read.search(bridge.queue), "a client may not consume the others' tasks"
    assert not write.search(bridge.results_exchange)
