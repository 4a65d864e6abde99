"""deploy/kuberay/rayservice.yaml is a RayService whose Serve config Ray accepts and
whose application is the one `npm run ml:ray` serves."""

from pathlib import Path

import pytest
import yaml
from ray.serve.schema import ServeDeploySchema

from tokenflow_ml.ray_serve import deployments
from tokenflow_ml.ray_serve.options import APP_NAME

REPO = Path(__file__).resolve().parents[3]
MANIFEST = REPO / "deploy" / "kuberay" / "rayservice.yaml"


@pytest.fixture(scope="module")
def service() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


@pytest.fixture(scope="module")
def serve_config(service) -> ServeDeploySchema:
    return ServeDeploySchema.model_validate(yaml.safe_load(service["spec"]["serveConfigV2"]))


def pinned_ray() -> str:
    lines = (REPO / "packages" / "ml-python" / "requirements-ray.txt").read_text().splitlines()
    return next(line.split("==")[1] for line in lines if line.startswith("ray[serve]=="))


def test_is_a_kuberay_rayservice_on_the_pinned_ray(service):
    assert service["apiVersion"] == "ray.io/v1"
    assert service["kind"] == "RayService"
    assert service["spec"]["rayClusterConfig"]["rayVersion"] == pinned_ray()


def test_serves_our_application_at_the_root(serve_config):
    [app] = serve_config.applications
    assert app.name == APP_NAME
    assert app.route_prefix == "/"
    assert app.import_path == "tokenflow_ml.ray_serve.application:from_environment"
    assert serve_config.http_options.port == 8000


def test_its_import_path_builds_the_application(monkeypatch):
    from importlib import import_module

    from ray.serve import Application

    module, name = "tokenflow_ml.ray_serve.application:from_environment".split(":")
    monkeypatch.setenv("ML_HOST", "0.0.0.0")
    monkeypatch.setenv("ML_SERVICE_TOKEN", "a-token-long-enough-for-the-rule-0123456789")
    assert isinstance(getattr(import_module(module), name)({}), Application)


def test_configures_only_deployments_the_application_has(serve_config):
    [app] = serve_config.applications
    ours = {
        deployments.ClassifierReplica.name,
        deployments.CompressorReplica.name,
        deployments.GeneratorReplica.name,
        deployments.Ingress.name,
    }
    assert {d.name for d in app.deployments} == ours


def test_each_model_autoscales_and_the_classifier_keeps_two_replicas(serve_config):
    [app] = serve_config.applications
    by_name = {d.name: d for d in app.deployments}
    for name in ("classifier", "compressor", "generator"):
        scaling = by_name[name].autoscaling_config
        assert scaling["min_replicas"] <= scaling["max_replicas"]
    assert by_name["classifier"].autoscaling_config["min_replicas"] == 2
    # The batch (8) must fit in what a replica takes at once, or Ray warns and batches less.
    assert by_name["classifier"].max_ongoing_requests >= 8


def test_the_head_reads_the_service_token_from_a_secret(service):
    [head] = service["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"]
    token = next(e for e in head["env"] if e["name"] == "ML_SERVICE_TOKEN")
    assert "value" not in token
    assert token["valueFrom"]["secretKeyRef"]["key"] == "service-token"
