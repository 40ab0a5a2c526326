"""Static checks of deploy/k8s (no cluster here): every manifest against the Kubernetes schemas
(kubernetes-validate, strict), selectors against pod labels, Service and probe ports against
container ports, config references, VERITEXT_* variables against the settings classes, and the
KEDA ScaledObject against the scorer's Deployment, group, topic and partition count."""

from typing import Any

import kubernetes_validate
import pytest
import yaml

from ingest.gateway.settings import GatewaySettings
from schemas.topics import Topics
from scorer.settings import ScorerSettings
from stream.settings import KafkaSettings
from tests.ops.catalogue import ROOT, cli_commands, settings_variables

K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33"


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


@pytest.fixture(scope="module")
def manifests(kustomization) -> list[dict[str, Any]]:
    docs = []
    for resource in kustomization["resources"]:
        docs.extend(d for d in yaml.safe_load_all((K8S / resource).read_text()) if d)
    return docs


def _of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def _workloads(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] in ("Deployment", "Job")}


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]


def _settings(manifests: list[dict[str, Any]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for config in _of_kind(manifests, "ConfigMap").values():
        values.update(config.get("data", {}))
    for secret in _of_kind(manifests, "Secret").values():
        values.update(secret.get("stringData", {}))
    return values


def test_kustomization_lists_every_manifest_in_the_folder(kustomization):
    listed = set(kustomization["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_every_manifest_follows_the_kubernetes_schema(manifests):
    checked = 0
    for manifest in manifests:
        if manifest["apiVersion"].startswith("keda.sh/"):
            continue  # a custom resource: checked below, field by field
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 9


def test_the_schema_check_can_fail(manifests):
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_selectors_match_pod_labels_and_services_reach_container_ports(manifests):
    workloads = _workloads(manifests)
    for name, workload in workloads.items():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        selector = workload["spec"].get("selector", {}).get("matchLabels", {})
        assert selector.items() <= labels.items(), f"{name}: selector {selector} does not match its pods {labels}"
    for name, service in _of_kind(manifests, "Service").items():
        selected = [
            w
            for w in workloads.values()
            if service["spec"]["selector"].items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(selected) == 1, f"service {name} selects {len(selected)} workloads"
        ports = {p["name"] for c in _containers(selected[0]) for p in c.get("ports", [])}
        ports |= {p["containerPort"] for c in _containers(selected[0]) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, f"service {name} targets {port['targetPort']}, not a container port"


def test_probes_and_scrape_annotations_use_ports_the_containers_open(manifests):
    for name, workload in _workloads(manifests).items():
        annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
        for container in _containers(workload):
            by_name = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe in container:
                    port = container[probe]["httpGet"]["port"]
                    assert port in by_name or port in by_name.values(), f"{name}: {probe} on port {port}"
            if annotations.get("prometheus.io/scrape") == "true":
                assert int(annotations["prometheus.io/port"]) in by_name.values(), f"{name}: scrape port"


def test_every_veritext_variable_exists_in_the_settings_and_every_required_one_is_set(manifests):
    known = settings_variables()
    configs, secrets = _of_kind(manifests, "ConfigMap"), _of_kind(manifests, "Secret")
    for name, workload in _workloads(manifests).items():
        for container in _containers(workload):
            env: set[str] = {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    ref = source["configMapRef"]["name"]
                    assert ref in configs, f"{name} reads ConfigMap {ref}, which is not defined"
                    env |= set(configs[ref]["data"])
                if "secretRef" in source:
                    ref = source["secretRef"]["name"]
                    assert ref in secrets, f"{name} reads Secret {ref}, which is not defined"
                    env |= set(secrets[ref]["stringData"])
            unknown = sorted(v for v in env if v.startswith("VERITEXT_") and v not in known)
            assert not unknown, f"{name} sets variables no settings class reads: {unknown}"
            missing = sorted(v.name for v in known.values() if v.required and v.name not in env)
            assert not missing, f"{name} lacks required settings: {missing}"
            assert container["args"][0] in cli_commands(), f"{name} runs `veritext {container['args'][0]}`"


def test_container_ports_agree_with_the_settings(manifests):
    settings = _settings(manifests)
    workloads = _workloads(manifests)

    def ports(name: str) -> set[int]:
        return {p["containerPort"] for c in _containers(workloads[name]) for p in c.get("ports", [])}

    assert ports("veritext-gateway") == {int(settings.get("VERITEXT_GATEWAY_PORT", GatewaySettings().port))}
    assert ports("veritext-scorer") == {int(settings["VERITEXT_SCORER_METRICS_PORT"])}
    assert ports("veritext-sink") == {int(settings["VERITEXT_SINK_METRICS_PORT"])}
    assert ports("veritext-bridge") == {int(settings["VERITEXT_RABBITMQ_METRICS_PORT"])}


def test_scorers_ask_for_a_gpu_and_use_the_cuda_image(manifests):
    [scorer] = _containers(_workloads(manifests)["veritext-scorer"])
    assert scorer["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert scorer["image"].endswith(":cuda")


def test_the_scaled_object_scales_the_scorers_on_their_lag_up_to_the_partition_count(manifests):
    settings = _settings(manifests)
    [scaled] = _of_kind(manifests, "ScaledObject").values()
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] in _of_kind(manifests, "Deployment")
    assert _containers(_of_kind(manifests, "Deployment")[spec["scaleTargetRef"]["name"]])[0]["args"] == ["scorer"]
    [trigger] = spec["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    topics = Topics(prefix=settings.get("VERITEXT_KAFKA_TOPIC_PREFIX", KafkaSettings().topic_prefix))
    assert meta["topic"] == topics.submissions
    assert meta["consumerGroup"] == settings.get("VERITEXT_SCORER_GROUP_ID", ScorerSettings().group_id)
    assert meta["bootstrapServers"] == settings["VERITEXT_KAFKA_BOOTSTRAP"]
    assert int(meta["lagThreshold"]) > 0 and meta["allowIdleConsumers"] == "false"
    partitions = int(settings.get("VERITEXT_KAFKA_PARTITIONS", KafkaSettings().partitions))
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] == partitions


def test_the_ingress_routes_the_api_to_the_gateway_service_and_not_its_metrics(manifests):
    services = _of_kind(manifests, "Service")
    [ingress] = _of_kind(manifests, "Ingress").values()
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    for path in paths:
        backend = path["backend"]["service"]
        assert backend["name"] in services
        assert backend["port"]["name"] in {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
    routed = {p["path"] for p in paths}
    assert {"/v1", "/predict", "/predictions/predict"} <= routed and "/metrics" not in routed and "/" not in routed


def test_the_gateway_needs_api_keys_and_the_ingress_serves_tls_for_its_hosts(manifests):
    [settings] = _of_kind(manifests, "ConfigMap").values()
    assert settings["data"]["VERITEXT_AUTH"] == "api-keys"
    [ingress] = _of_kind(manifests, "Ingress").values()
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert ingress["spec"]["tls"] and all(t["secretName"] for t in ingress["spec"]["tls"])
    assert hosts <= {h for t in ingress["spec"]["tls"] for h in t["hosts"]}


def _ports(workload: dict[str, Any]) -> set[str]:
    return {p["name"] for c in _containers(workload) for p in c.get("ports", [])}


def test_every_pod_is_closed_but_for_its_listed_ports_and_runs_unprivileged(manifests):
    policies = _of_kind(manifests, "NetworkPolicy")
    assert policies["veritext-default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    opened: dict[str, set[str]] = {}
    for policy in policies.values():
        selector = policy["spec"]["podSelector"]
        for rule in policy["spec"].get("ingress", []):
            for name, workload in _workloads(manifests).items():
                labels = workload["spec"]["template"]["metadata"]["labels"]
                if all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
                    labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", [])
                ):
                    opened.setdefault(name, set()).update(p["port"] for p in rule["ports"])
    for name, workload in _workloads(manifests).items():
        ports = _ports(workload)
        assert opened.get(name, set()) <= ports, f"{name}: a policy opens a port it does not have"
        if ports:
            assert opened.get(name) == ports, f"{name}: its ports {ports} are not all reachable ({opened.get(name)})"
        for container in _containers(workload):
            context = container.get("securityContext", {})
            assert context.get("allowPrivilegeEscalation") is False, name
            assert context.get("capabilities", {}).get("drop") == ["ALL"], name
