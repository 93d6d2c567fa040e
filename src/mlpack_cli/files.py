"""Plan file changes first, then write them all or none.

Every command that writes into a user's tree (init, convert, ci) builds a :class:`FilePlan`: each
entry says what would happen to one path (created, updated, replaced, skipped, unchanged). Nothing
touches the disk until :meth:`FilePlan.apply`, which writes temporary files into a staging directory
that git ignores (:class:`Staging`) and only then moves them into place, undoing everything if any
step fails.

An existing file is rewritten the way its owner keeps it: through a symlink (the link stays a link,
its target gets the new content), with its line endings (CRLF stays CRLF) and with a UTF-8 BOM only if
it had one. Undoing writes the old bytes back in place, into the existing file, so that it needs no
new file and no new directory entry (it works on a full disk).
"""

from __future__ import annotations

import codecs
import enum
import os
import shutil
import tempfile
from collections.abc import Iterable
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
        """Plan rewriting an existing file whose new content already keeps the user's edits (in the
        file's own line endings and BOM, whatever ``content`` uses)."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        target = self.root / relpath
        if target.is_file():
            data = keep_text_style(target.read_bytes(), data)
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
        staging = Staging(self.root)
        staging.clean_stale(self.root / entry.path for entry in self.changes)
        try:
            for entry in self.changes:
                target = _through_links(self.root / entry.path)
                made_dirs.extend(_make_dirs(target if entry.is_dir else target.parent))
                if entry.is_dir or entry.content is None:
                    continue
                staged.append((_write_temporary(target, entry.content, staging.directory_for(target)), target))
            for tmp, target in staged:
                previous = target.read_bytes() if target.exists() else None
                os.replace(tmp, target)
                moved.append((target, previous))
        except OSError as exc:
            staging.close()  # first: a directory this run made must be empty to be removed
            _roll_back(staged, moved, made_dirs)
            raise EnvironmentProblem(
                f"writing {getattr(exc, 'filename', None) or self.root} failed: {exc.strerror or exc}",
                hint="Nothing was changed. Fix the cause (disk space, permissions) and run again.",
            ) from exc
        finally:  # also on Ctrl-C: this run's staging directory never outlives it
            staging.close()


# -- staging -----------------------------------------------------------------------------------

STAGING_DIR = Path(".mlpack") / "tmp"  # under the plan's root; its .gitignore ignores everything in it
STAGED_SUFFIX = ".mlpack-tmp"


class Staging:
    """Where :meth:`FilePlan.apply` writes new content before moving it into place.

    Each run stages in its own directory, ``.mlpack/tmp/<pid>.<random>/``, which git ignores (the
    ``.gitignore`` there holds ``*``) and which is removed when the run ends, however it ends. A run
    that was killed leaves its directory behind, ignored; the next run of any command that writes
    removes every directory whose process is gone. A target on another file system (a symlink out of
    the project) is staged beside itself, as ``.<name>.<pid>.<random>.mlpack-tmp``, for an atomic
    rename; such files of dead runs are removed beside the targets of the next plan.
    """

    def __init__(self, root: Path) -> None:
        self.base = root / STAGING_DIR
        self.run: Path | None = None

    def directory_for(self, target: Path) -> Path | None:
        """This run's directory, made on first use; None to stage beside ``target`` instead."""
        try:
            if self.run is None:
                self.base.mkdir(parents=True, exist_ok=True)
                if not (self.base / ".gitignore").exists():
                    (self.base / ".gitignore").write_text("# Written by mlpack: files staged while writing.\n*\n")
                self.run = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}.", dir=self.base))
            if os.stat(self.run).st_dev != os.stat(target.parent).st_dev:
                return None
        except OSError:
            return None
        return self.run

    def close(self) -> None:
        """Remove this run's directory, then ``.mlpack/tmp`` and ``.mlpack`` if nothing else is left."""
        if self.run is not None:
            shutil.rmtree(self.run, ignore_errors=True)
            self.run = None
        _remove_if_only_gitignore(self.base)

    def clean_stale(self, targets: Iterable[Path]) -> None:
        """Remove what runs that are gone left: their directories, and files staged beside ``targets``."""
        if self.base.is_dir():
            for run in self.base.iterdir():
                if run.is_dir() and not _alive(run.name.split(".", 1)[0]):
                    shutil.rmtree(run, ignore_errors=True)
        # Every staged file in the folders this plan writes to, not only those beside its targets: a
        # killed run may have been writing a file this one does not (a notebook deleted since).
        for folder in dict.fromkeys(target.parent for target in targets):
            try:
                staged = list(folder.glob(f".*{STAGED_SUFFIX}"))
            except OSError:
                continue
            for path in staged:
                # .<name>.<pid>.<random>.mlpack-tmp; older names hold no pid: always stale
                parts = path.name[1:-len(STAGED_SUFFIX)].rsplit(".", 2)
                if len(parts) < 3 or not _alive(parts[1]):
                    path.unlink(missing_ok=True)
        _remove_if_only_gitignore(self.base)


def _alive(pid_text: str) -> bool:
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_if_only_gitignore(base: Path) -> None:
    try:
        if base.is_dir() and {p.name for p in base.iterdir()} <= {".gitignore"}:
            (base / ".gitignore").unlink(missing_ok=True)
            base.rmdir()
            base.parent.rmdir()  # .mlpack, if this left it empty
    except OSError:
        pass


def keep_text_style(existing: bytes, new: bytes) -> bytes:
    """``new`` in ``existing``'s line endings (CRLF or LF, when that file uses one throughout; a mixed
    file is left as ``new`` has it) and with a UTF-8 BOM exactly when ``existing`` has one."""
    bom = codecs.BOM_UTF8
    body = new[len(bom):] if new.startswith(bom) else new
    crlf, lf = existing.count(b"\r\n"), existing.count(b"\n")
    if crlf and crlf == lf:
        body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    elif lf and not crlf:
        body = body.replace(b"\r\n", b"\n")
    return (bom + body) if existing.startswith(bom) else body


def _through_links(path: Path) -> Path:
    """Where writing ``path`` must land: the final target of a symlink (so the link stays a link)."""
    return path.resolve() if path.is_symlink() else path


def write_in_place(path: Path, content: bytes) -> bool:
    """Overwrite the existing file (through symlinks) with ``content``; False if it already held it.

    No temporary file and no new directory entry: the rollback path, which must work on a full disk.
    """
    try:
        handle = open(path, "r+b")  # noqa: SIM115 - closed below
    except FileNotFoundError:  # gone meanwhile: nothing to write in place into
        path.write_bytes(content)
        return True
    with handle:
        if handle.read() == content:
            return False
        handle.seek(0)
        handle.write(content)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
    return True


def _make_dirs(directory: Path) -> list[Path]:
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


def _write_temporary(target: Path, content: bytes, directory: Path | None = None) -> Path:
    prefix = f".{target.name}.{os.getpid()}." if directory is None else f".{target.name}."
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=STAGED_SUFFIX, dir=directory or target.parent)
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
        try:  # best effort for each file: one that cannot be put back must not stop the others
            if previous is None:
                target.unlink(missing_ok=True)
            else:
                write_in_place(target, previous)
        except OSError:
            pass
    for tmp, _ in staged:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    for directory in reversed(made_dirs):
        try:
            directory.rmdir()
        except OSError:
            pass
