"""Render CI pipelines (GitLab CI, Jenkins) from the templates in ``templates/ci/``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlpack_cli.templating import render

CI_FILES = {"gitlab": ".gitlab-ci.yml", "jenkins": "Jenkinsfile"}
DEFAULT_PYTHON_IMAGE = "python:3.11-slim"


@dataclass(frozen=True)
class CiOptions:
    name: str
    package: str
    python_image: str = DEFAULT_PYTHON_IMAGE

    @classmethod
    def from_tool(cls, table: Mapping[str, Any], *, name: str, package: str) -> CiOptions:
        return cls(name=name, package=package, python_image=str(table.get("python-image", DEFAULT_PYTHON_IMAGE)))


def kinds_for(choice: str) -> list[str]:
    """``gitlab|jenkins|both|none`` -> the pipelines to write."""
    return {"gitlab": ["gitlab"], "jenkins": ["jenkins"], "both": ["gitlab", "jenkins"]}.get(choice, [])


def render_pipeline(kind: str, options: CiOptions) -> str:
    template = {"gitlab": "ci/gitlab-ci.yml.j2", "jenkins": "ci/Jenkinsfile.j2"}[kind]
    return render(template, options=options)
