"""The next version of a project: a part bumped, or a later version given (release picks it; publish
names the next free one when a version is taken)."""

from __future__ import annotations

from mlpack_cli.errors import InvalidInput

BUMP_PARTS = ("patch", "minor", "major")


def bump_version(current: str, bump: str) -> str:
    """The next version: ``patch``/``minor``/``major`` of ``current``, or an explicit later version."""
    from packaging.version import InvalidVersion, Version

    try:
        now = Version(current)
    except InvalidVersion as exc:
        raise InvalidInput(f"the current version {current!r} is not a PEP 440 version",
                           hint="Fix [project] version in pyproject.toml.") from exc
    if bump in BUMP_PARTS:
        major, minor, micro = (list(now.release) + [0, 0])[:3]
        if bump == "major":
            return f"{major + 1}.0.0"
        if bump == "minor":
            return f"{major}.{minor + 1}.0"
        if now.is_prerelease:  # 1.2.0rc1 -> 1.2.0: a patch bump finishes the pre-release
            return f"{major}.{minor}.{micro}"
        return f"{major}.{minor}.{micro + 1}"
    try:
        wanted = Version(bump)
    except InvalidVersion as exc:
        raise InvalidInput(f"--bump {bump!r} is neither patch, minor, major nor a PEP 440 version",
                           hint="Use e.g. --bump minor or --bump 2.0.0.") from exc
    if wanted <= now:
        raise InvalidInput(f"--bump {bump}: the new version must be later than {current}",
                           hint="Pick a higher version.")
    return str(wanted)
