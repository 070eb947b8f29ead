"""deploy/: the Kubernetes manifests validate offline against the Kubernetes schemas, say what a serious
deployment needs, and use only settings the server has; the nginx configuration passes `nginx -t`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from clicksend_mcp.settings import Settings, env_name
from clicksend_mcp.store import locate
from nginx_process import check_config, main_config, nginx_binary, render_deploy_config

REPO = Path(__file__).resolve().parent.parent
MANIFESTS = sorted((REPO / "deploy" / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSION = "1.30.0"  # the oldest version these manifests promise to work on (PodSpec preStop sleep: 1.30)


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return found


def by_kind(kind: str, name: str) -> dict[str, Any]:
    return next(doc for _, doc in documents() if doc["kind"] == kind and doc["metadata"]["name"] == name)


@pytest.mark.parametrize(("label", "doc"), documents(), ids=[label for label, _ in documents()])
def test_each_manifest_is_valid_against_the_kubernetes_schemas(label: str, doc: dict[str, Any]) -> None:
    for version in (KUBERNETES_VERSION, kubernetes_validate.latest_version()):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_deployment_runs_three_hardened_replicas_with_probes_and_limits() -> None:
    deployment = by_kind("Deployment", "clicksend-mcp")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["replicas"] == 3
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and container["resources"]["limits"]
    secret_refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert set(secret_refs) == {
        "CLICKSEND_MCP_AUTH_TOKEN",
        "CLICKSEND_MCP_STATE_KEYS",
        "CLICKSEND_MCP_DATABASE_URL",  # one ledger for every replica: budgets and idempotency hold across them
        "CLICKSEND_MCP_LEDGER_KEY",
    }
    example = by_kind("Secret", "clicksend-mcp")["stringData"]
    assert {ref["key"] for ref in secret_refs.values()} == set(example)  # the example shows every key read
    location = locate(example["database-url"])
    assert location is not None and location.kind == "postgresql"
    assert pod["terminationGracePeriodSeconds"] > 30  # longer than the shutdown grace


def test_the_deployment_sets_only_settings_the_server_reads() -> None:
    (container,) = by_kind("Deployment", "clicksend-mcp")["spec"]["template"]["spec"]["containers"]
    known = {env_name(name) for name in Settings.model_fields} | {"CLICKSEND_MCP_CACHE_DIR", "POD_IP"}
    assert {e["name"] for e in container["env"]} <= known


def test_a_disruption_budget_and_an_autoscaler_cover_the_deployment() -> None:
    budget = by_kind("PodDisruptionBudget", "clicksend-mcp")
    scaler = by_kind("HorizontalPodAutoscaler", "clicksend-mcp")
    labels = by_kind("Deployment", "clicksend-mcp")["spec"]["selector"]["matchLabels"]
    assert budget["spec"]["selector"]["matchLabels"] == labels and budget["spec"]["minAvailable"] == 2
    assert scaler["spec"]["scaleTargetRef"]["name"] == "clicksend-mcp" and scaler["spec"]["minReplicas"] == 3


def test_the_nginx_configuration_passes_nginx_t(tmp_path: Path) -> None:
    binary = nginx_binary()
    include = render_deploy_config(tmp_path, 18080, [18001, 18002, 18003])
    checked = check_config(binary, main_config(tmp_path, include))
    assert checked.returncode == 0, checked.stderr


def test_the_kubernetes_nginx_configuration_passes_nginx_t(tmp_path: Path) -> None:
    binary = nginx_binary()
    config = by_kind("ConfigMap", "clicksend-mcp-nginx")["data"]["default.conf"]
    # The Service name resolves only inside the cluster: check the syntax with a loopback address in its place.
    include = tmp_path / "default.conf"
    include.write_text(config.replace("clicksend-mcp:80", "127.0.0.1:80").replace("listen 8080;", "listen 18080;"))
    checked = check_config(binary, main_config(tmp_path, include))
    assert checked.returncode == 0, checked.stderr
