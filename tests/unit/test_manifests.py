"""The deploy/ manifests against the Kubernetes API schemas (kubernetes-validate, offline)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from ruamel.yaml import YAML

from mlpack_cli import manifests

kubernetes_validate = pytest.importorskip("kubernetes_validate")
KUBERNETES = "1.31.0"


def load(text: str) -> dict[str, Any]:
    document: dict[str, Any] = YAML(typ="safe").load(io.StringIO(text))
    return document


@pytest.mark.parametrize("project", ["houses-demo", "Churn_Model.v2"])
def test_the_written_manifests_are_valid_kubernetes_objects(project: str) -> None:
    files = manifests.manifest_files(project, "registry.example.org/team/churn")
    assert set(files) == {"deploy/deployment.yaml", "deploy/service.yaml"}
    for text in files.values():
        document = load(text)
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
        assert document["metadata"]["name"] == manifests.resource_name(project)


def test_the_validation_does_catch_mistakes() -> None:
    broken = manifests.deployment("houses-demo", "x")
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pathh"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_the_deployment_probes_health_requests_resources_and_is_scraped() -> None:
    document = load(manifests.manifest_files("houses-demo", "x")["deploy/deployment.yaml"])
    pod = document["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert pod["metadata"]["annotations"] == {"prometheus.io/scrape": "true", "prometheus.io/port": "8080",
                                              "prometheus.io/path": "/metrics"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert document["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"]
    service = load(manifests.manifest_files("houses-demo", "x")["deploy/service.yaml"])
    assert service["spec"]["selector"] == pod["metadata"]["labels"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_hostile_values_stay_values() -> None:
    image = 'evil"\nkind: Secret\n#'
    document = load(manifests.manifest_files("houses-demo", image)["deploy/deployment.yaml"])
    assert document["kind"] == "Deployment"
    assert document["spec"]["template"]["spec"]["containers"][0]["image"] == image


@pytest.mark.parametrize(("project", "name"), [("Churn_Model.v2", "churn-model-v2"), ("a" * 80, "a" * 63),
                                               ("_x_", "x")])
def test_resource_names_are_dns_labels(project: str, name: str) -> None:
    assert manifests.resource_name(project) == name


def test_the_deploy_commands_pin_the_image_to_the_tag() -> None:
    commands = manifests.deploy_commands("houses-demo", "MLPACK_IMAGE", "MLPACK_TAG")
    assert 'serve="$MLPACK_IMAGE:$MLPACK_TAG"' in commands[1] and "--local" in commands[1]
    assert commands[-1].startswith("kubectl rollout status deployment/houses-demo")
