"""Plan file changes first, then write them all or none.

Every command that writes into a user's tree (init, convert, ci) builds a :class:`FilePlan`: each
entry says what would happen to one path (created, updated, replaced, skipped, unchanged). Nothing
touches the disk until :meth:`FilePlan.apply`, which writes temporary files beside their targets
and only then moves them into place, undoing everything if any step fails.
"""

from __future__ import annotations

import enum
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlpack_cli.errors import EnvironmentProblem, FileConflict


class Action(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"  # merged: the user's content kept, ours added
    REPLACED = "replaced"  # overwritten because of --force
    SKIPPED = "skipped"  # exists with other content; left alone
    UNCHANGED = "unchanged"  # exists with exactly this content

    @property
    def writes(self) -> bool:
        return self in (Action.CREATED, Action.UPDATED, Action.REPLACED)


@dataclass(frozen=True)
class PlannedFile:
    path: Path  # relative to the plan's root
    action: Action
    content: bytes | None = None  # None for directories and for entries that write nothing
    note: str = ""
    is_dir: bool = False


@dataclass
class FilePlan:
    root: Path
    entries: list[PlannedFile] = field(default_factory=list)

    # -- building the plan ---------------------------------------------------------------------

    def directory(self, relpath: str | Path) -> PlannedFile:
        target = self.root / relpath
        action = Action.UNCHANGED if target.is_dir() else Action.CREATED
        if target.exists() and not target.is_dir():
            raise FileConflict(
                f"{relpath} exists and is not a directory",
                hint="Move that file out of the way and run the command again.",
            )
        return self._add(PlannedFile(Path(relpath), action, is_dir=True))

    def file(
        self,
        relpath: str | Path,
        content: str | bytes,
        *,
        force: bool = False,
        skip_note: str = "exists with other content; kept (use --force to replace)",
    ) -> PlannedFile:
        """Plan writing ``content``; an existing, different file is skipped unless ``force``."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        target = self.root / relpath
        if target.is_dir():
            raise FileConflict(
                f"{relpath} is a directory, expected a file",
                hint="Move that directory out of the way and run the command again.",
            )
        if not target.exists():
            return self._add(PlannedFile(Path(relpath), Action.CREATED, data))
        if target.read_bytes() == data:
            return self._add(PlannedFile(Path(relpath), Action.UNCHANGED))
        if force:
            return self._add(PlannedFile(Path(relpath), Action.REPLACED, data, "overwritten (--force)"))
        return self._add(PlannedFile(Path(relpath), Action.SKIPPED, note=skip_note))

    def update(self, relpath: str | Path, content: str | bytes, note: str = "") -> PlannedFile:
        """Plan rewriting an existing file whose new content already keeps the user's edits."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        target = self.root / relpath
        if target.exists() and target.read_bytes() == data:
            return self._add(PlannedFile(Path(relpath), Action.UNCHANGED, note=note))
        action = Action.UPDATED if target.exists() else Action.CREATED
        return self._add(PlannedFile(Path(relpath), action, data, note))

    def skip(self, relpath: str | Path, note: str) -> PlannedFile:
        return self._add(PlannedFile(Path(relpath), Action.SKIPPED, note=note))

    def _add(self, entry: PlannedFile) -> PlannedFile:
        self.entries = [e for e in self.entries if e.path != entry.path]
        self.entries.append(entry)
        return entry

    # -- reading the plan ----------------------------------------------------------------------

    @property
    def changes(self) -> list[PlannedFile]:
        return [e for e in self.entries if e.action.writes]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    # -- applying ------------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Fail before writing anything if some target cannot be written."""
        for entry in self.changes:
            probe = self.root / entry.path
            while not probe.exists():
                probe = probe.parent
            if not os.access(probe, os.W_OK) or (probe.is_dir() and not os.access(probe, os.X_OK)):
                raise EnvironmentProblem(
                    f"cannot write {entry.path}: {probe} is not writable",
                    hint="Fix the permissions or choose another directory. Nothing was written.",
                )

    def apply(self) -> None:
        """Write every planned change, or none of them."""
        self.check_writable()
        made_dirs: list[Path] = []
        staged: list[tuple[Path, Path]] = []  # (temporary file, target)
        moved: list[tuple[Path, bytes | None]] = []  # (target, previous content or None)
        try:
            for entry in self.changes:
                target = self.root / entry.path
                made_dirs.extend(_make_dirs(target if entry.is_dir else target.parent))
                if entry.is_dir or entry.content is None:
                    continue
                staged.append((_write_temporary(target, entry.content), target))
            for tmp, target in staged:
                previous = target.read_bytes() if target.exists() else None
                os.replace(tmp, target)
                moved.append((target, previous))
        except OSError as exc:
            _roll_back(staged, moved, made_dirs)
            raise EnvironmentProblem(
                f"writing {getattr(exc, 'filename', None) or self.root} failed: {exc.strerror or exc}",
                hint="Nothing was changed. Fix the cause (disk space, permissions) and run again.",
            ) from exc


def _make_dirs(directory: Path) -> list[Path]:
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


def _write_temporary(target: Path, content: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".mlpack-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        os.chmod(name, mode)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _roll_back(
    staged: list[tuple[Path, Path]], moved: list[tuple[Path, bytes | None]], made_dirs: list[Path]
) -> None:
    for target, previous in reversed(moved):
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(previous)
    for tmp, _ in staged:
        tmp.unlink(missing_ok=True)
    for directory in reversed(made_dirs):
        try:
            directory.rmdir()
        except OSError:
            pass
