"""Distribution file names (sdists and wheels), parsed with packaging.utils in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from packaging.utils import NormalizedName
    from packaging.version import Version

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
