"""The deployment files agree with the service catalog: every service has its Deployment, Service and probes."""

from pathlib import Path

import yaml

from services.catalog import ALL

ROOT = Path(__file__).resolve().parents[2]


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_every_service_has_a_deployment_with_probes_and_a_service():
    for entry in ALL:
        docs = _documents(ROOT / "deploy" / "k8s" / f"{entry.name}.yaml")
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        service = next(d for d in docs if d["kind"] == "Service")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert entry.app in container["command"]
        assert str(entry.port) in container["command"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": entry.port}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": entry.port}
        assert service["spec"]["ports"][0]["port"] == entry.port
        init = deployment["spec"]["template"]["spec"]["initContainers"][0]
        assert init["command"] == ["fupin", "migrate", "--service", entry.name]


def test_compose_runs_every_service_with_its_own_database():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    init_sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text()
    for entry in ALL:
        service = compose["services"][entry.name]
        assert entry.app in service["command"]
        url = service["environment"][f"{entry.name.upper()}_DATABASE_URL"]
        assert url.endswith(f"/fupin_{entry.name}")
        assert f"CREATE DATABASE fupin_{entry.name};" in init_sql


def test_gateway_routes_to_every_service_in_kubernetes():
    config = next(d for d in _documents(ROOT / "deploy" / "k8s" / "config.yaml") if d["kind"] == "ConfigMap")
    upstreams = yaml.safe_load(config["data"]["GATEWAY_UPSTREAMS"])
    assert set(upstreams) == {e.name for e in ALL if e.routed}
