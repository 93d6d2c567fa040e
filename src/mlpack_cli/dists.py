"""Distributions (sdists and wheels): their file names, parsed with packaging.utils in one place, and
the artifacts a build leaves (path, size, sha256) that check, publish and release pass on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from mlpack_cli.project import ProjectSettings

DEFAULT_OUTDIR = "dist"

Kind = Literal["sdist", "wheel"]


def dist_kind(filename: str) -> Kind:
    return "wheel" if filename.endswith(".whl") else "sdist"


def parse_dist_filename(filename: str) -> tuple[NormalizedName, Version, Kind]:
    """Name, version and kind of a wheel or sdist file name; ValueError for anything else."""
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    if dist_kind(filename) == "wheel":
        name, version, _, _ = parse_wheel_filename(filename)
        return name, version, "wheel"
    name, version = parse_sdist_filename(filename)  # .tar.gz or .zip; anything else is a ValueError
    return name, version, "sdist"


@dataclass(frozen=True)
class Artifact:
    path: Path
    kind: str  # "sdist" or "wheel"
    size: int
    sha256: str

    @classmethod
    def from_path(cls, path: Path) -> Artifact:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(path=path, kind=dist_kind(path.name), size=path.stat().st_size, sha256=digest)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.path), "size": self.size, "sha256": self.sha256}


def find_artifacts(project: ProjectSettings, outdir: Path | None = None) -> list[Path]:
    """The sdist and wheel of the project's current version in ``outdir`` (default dist/)."""
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    directory = outdir or project.root / DEFAULT_OUTDIR
    found: list[Path] = []
    for path in sorted(directory.glob("*")):
        try:
            name, version, _ = parse_dist_filename(path.name)
        except ValueError:
            continue
        if name == canonicalize_name(project.name) and version == Version(project.version or "0"):
            found.append(path)
    return found
