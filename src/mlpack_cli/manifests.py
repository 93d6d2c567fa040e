"""The Kubernetes manifests of the serving image (``deploy/``), which the deploy job applies with kubectl.

They are built as data and written by ruamel.yaml's emitter, never from a text template, so no
project value can change their structure. The image is written without a tag: the deploy job pins
the Deployment to the pipeline's tag (``kubectl set image --local``) before it applies it.
"""

from __future__ import annotations

import io
import re
from typing import Any

DEPLOY_DIR = "deploy"
DEPLOYMENT_FILE = f"{DEPLOY_DIR}/deployment.yaml"
SERVICE_FILE = f"{DEPLOY_DIR}/service.yaml"
CONTAINER_NAME = "serve"
PORT = 8080
USER_ID = 10001  # the image's non-root user (templates/ci/Dockerfile.j2)
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
HEADER = ("# Written by `mlpack ci` for {name}: change [tool.mlpack.ci] and run `mlpack ci` again rather\n"
          "# than editing (an edited file is kept). docs/ci.md explains the deployment.\n")


def resource_name(project: str) -> str:
    """A DNS-1123 label (what Kubernetes accepts as a name) from a PEP 508 project name."""
    name = re.sub(r"[^a-z0-9-]+", "-", project.lower()).strip("-")[:63].rstrip("-")
    return name or "model"


def deployment(project: str, image: str) -> dict[str, Any]:
    """A Deployment of the image: probes on /healthz, resource requests, Prometheus scrape annotations."""
    name = resource_name(project)
    labels = {"app.kubernetes.io/name": name}
    probe = {"httpGet": {"path": HEALTH_PATH, "port": "http"}, "timeoutSeconds": 5}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {
                    "labels": dict(labels),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(PORT),
                                    "prometheus.io/path": METRICS_PATH},
                },
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": USER_ID, "runAsGroup": USER_ID},
                    "containers": [{
                        "name": CONTAINER_NAME,
                        "image": image,
                        "ports": [{"name": "http", "containerPort": PORT}],
                        "readinessProbe": {**probe, "periodSeconds": 10},
                        "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 20,
                                          "failureThreshold": 3},
                        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                      "limits": {"memory": "512Mi"}},
                    }],
                },
            },
        },
    }


def service(project: str) -> dict[str, Any]:
    """A ClusterIP Service in front of the Deployment's pods, port 80 to the container's 8080."""
    name = resource_name(project)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def dump(document: dict[str, Any], project: str) -> str:
    """One manifest as YAML, written by the emitter (block style, every string quoted as needed)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.representer.sort_base_mapping_type_on_output = False  # as built
    yaml.representer.ignore_aliases = lambda *_: True  # no &id001 anchors
    stream = io.StringIO()
    yaml.dump(document, stream)
    return HEADER.format(name=project) + stream.getvalue()


def manifest_files(project: str, image: str) -> dict[str, str]:
    """Relative path -> content of the files ``mlpack ci`` writes into ``deploy/``."""
    return {DEPLOYMENT_FILE: dump(deployment(project, image), project), SERVICE_FILE: dump(service(project), project)}


def deploy_commands(project: str, image_variable: str, tag_variable: str) -> tuple[str, ...]:
    """The kubectl commands of the deploy job: the Service, the Deployment pinned to the tag, the rollout."""
    name = resource_name(project)
    pinned = f"{DEPLOY_DIR}/deployment.pinned.yaml"
    return (
        f"kubectl apply -f {SERVICE_FILE}",
        f'kubectl set image --local -f {DEPLOYMENT_FILE} -o yaml {CONTAINER_NAME}="${image_variable}:${tag_variable}"'
        f" > {pinned}",
        f"kubectl apply -f {pinned}",
        f"kubectl rollout status deployment/{name} --timeout=300s",
    )
