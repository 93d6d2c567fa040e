"""The secret scan of built artifacts, on hand-made wheels and sdists (the real build is in integration)."""

from __future__ import annotations

import io
import random
import string
import tarfile
import zipfile
from pathlib import Path

import pytest

from mlpack_cli.commands.build import SECRET_SCAN_MAX_BYTES, refuse_secrets, secret_problems
from mlpack_cli.errors import BuildFailed, ExitCode, SecretInArtifact

TOKEN = "hf_" + "".join(random.Random(3).choices(string.ascii_letters, k=32)) + "Xy"  # made here, not in a file


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _sdist(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_every_text_member_is_scanned_and_named_with_its_line_and_masked_value(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "demo-1.0-py3-none-any.whl", {
        "demo/__init__.py": b'"""Demo."""\n',
        "demo/settings.py": f'REGION = "eu"\nTOKEN = "{TOKEN}"\n'.encode(),
        "demo-1.0.dist-info/METADATA": b"Name: demo\nVersion: 1.0\n",
    })
    sdist = _sdist(tmp_path / "demo-1.0.tar.gz", {"demo-1.0/README.md": f"Try it with {TOKEN}.\n".encode()})
    problems = secret_problems([wheel, sdist])
    assert problems == [
        "demo-1.0-py3-none-any.whl: demo/settings.py, line 2: Hugging Face Token hf…Xy",
        "demo-1.0.tar.gz: demo-1.0/README.md, line 1: Hugging Face Token hf…Xy",
    ]
    assert TOKEN not in "".join(problems)


def test_binary_and_oversized_members_are_skipped_and_the_pragma_allowlists(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "demo-1.0-py3-none-any.whl", {
        "demo/model.bin": b"\0\1" + TOKEN.encode(),
        "demo/big.txt": (f"{TOKEN}\n" + "x" * SECRET_SCAN_MAX_BYTES).encode(),
        "demo/latin1.txt": TOKEN.encode() + b" \xff\n",
        "demo/example.py": f'EXAMPLE = "{TOKEN}"  # pragma: allowlist secret\n'.encode(),
    })
    assert secret_problems([wheel]) == []


def test_refusing_removes_both_artifacts_and_says_what_to_do(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/settings.py": f'TOKEN = "{TOKEN}"\n'.encode()})
    sdist = _sdist(tmp_path / "demo-1.0.tar.gz", {"demo-1.0/PKG-INFO": b"Name: demo\n"})
    with pytest.raises(SecretInArtifact) as caught:
        refuse_secrets([sdist, wheel])
    assert isinstance(caught.value, BuildFailed) and caught.value.exit_code == ExitCode.BUILD_FAILED
    assert "demo/settings.py, line 1" in caught.value.message
    assert "environment variable" in (caught.value.hint or "")
    assert not wheel.exists() and not sdist.exists()


def test_a_clean_build_is_left_alone(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/__init__.py": b"VALUE = 1\n"})
    refuse_secrets([wheel])
    assert wheel.exists()
