"""``pip install`` lines read as pip reads them: options, extras, markers, several commands."""

from __future__ import annotations

import pytest

from mlpack_cli.notebook.pipargs import is_pip_command, parse_pip_magic, parse_shell_line


@pytest.mark.parametrize(
    ("line", "requirements"),
    [
        ("pip -q install x", ["x"]),
        ("pip install -q -U x", ["x"]),
        ("pip --quiet install --upgrade x y", ["x", "y"]),
        ("pip install -qU 'diffusers[training]' accelerate>=0.20", ["diffusers[training]", "accelerate>=0.20"]),
        ("pip install \"numpy; python_version<'3.12'\"", ['numpy; python_version < "3.12"']),
        ("pip install 'ray[tune,data]~=2.9'", ["ray[data,tune]~=2.9"]),
        ("pip3 install --no-cache-dir --upgrade-strategy eager pandas", ["pandas"]),
        ("python -m pip install --user scipy", ["scipy"]),
        ("/usr/bin/python3.11 -m pip install scipy", ["scipy"]),
        ("{sys.executable} -m pip install seaborn", ["seaborn"]),
        ("uv pip install polars", ["polars"]),
        ("pip install --target=/tmp/t --prefix /tmp/p torch", ["torch"]),
        ("pip install x > /dev/null 2>&1", ["x"]),
        ("pip install x >/dev/null && pip install -q y ; pip list | grep y", ["x", "y"]),
        ("pip install x  # the comment is not a package", ["x"]),
        ("pip list", []),
        ("pip -q", []),
        ("pip uninstall -y x", []),
    ],
)
def test_requirements_of_a_shell_line(line: str, requirements: list[str]) -> None:
    assert parse_shell_line(line).requirements == requirements


def test_pip_magic_lines_are_pips_arguments() -> None:
    assert parse_pip_magic("install -q transformers datasets").requirements == ["transformers", "datasets"]
    assert parse_pip_magic("-q install mlflow").requirements == ["mlflow"]
    assert not parse_pip_magic("list").found


def test_requirement_files_and_editables_are_warned_about() -> None:
    found = parse_shell_line("pip install -r requirements.txt -e . -c constraints.txt x")
    assert found.requirements == ["x"]
    assert [w.split(" ")[2] for w in found.warnings] == ["-r", "-e", "-c"]


def test_index_options_are_ignored_with_a_note_that_never_shows_the_url() -> None:
    found = parse_shell_line("pip install --index-url https://user:s3cret@example.org/simple -ihttps://b:pw@x torch")
    assert found.requirements == ["torch"]
    assert len(found.warnings) == 2 and all("--index-url: ignored" in w for w in found.warnings)
    assert "s3cret" not in " ".join(found.warnings) and "pw" not in " ".join(found.warnings)


def test_urls_and_paths_are_not_harvested() -> None:
    found = parse_shell_line("pip install git+https://tok@example.org/x.git 'pkg @ https://example.org/p.whl' ./local")
    assert found.requirements == []
    assert len(found.warnings) == 3
    assert "tok" not in " ".join(found.warnings)


@pytest.mark.parametrize(
    ("line", "runs_pip"),
    [("pip install x", True), ("python3 -m pip list", True), ("ls -la", False), ("pipx install x", False),
     ("python script.py", False)],
)
def test_which_lines_run_pip(line: str, runs_pip: bool) -> None:
    assert is_pip_command(line) is runs_pip
