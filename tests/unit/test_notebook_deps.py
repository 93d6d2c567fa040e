"""Dependencies: imports mapped to distributions, bounds the project's oldest Python can install,
the standard library and notebook-only modules left out, user entries kept."""

from __future__ import annotations

import ast
from importlib.metadata import metadata, version

import pytest
import tomlkit
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from mlpack_cli.notebook import deps
from mlpack_cli.notebook.deps import (
    bound, combine, imported_modules, merge_dependencies, oldest_python, resolve, top_level_imports,
)

PY310 = (3, 10, 0)


def test_top_level_imports_ignore_relative_and_future_imports() -> None:
    tree = ast.parse("from __future__ import annotations\nimport os.path\nfrom sklearn.svm import SVC\nfrom . import x")
    assert top_level_imports(tree) == ["os", "sklearn"]


def test_imported_modules_keep_the_dotted_names() -> None:
    tree = ast.parse("import google.protobuf\nfrom google.cloud import storage\nfrom . import x\nimport a.b as c")
    assert imported_modules(tree) == ["a.b", "google.cloud.storage", "google.protobuf"]


def test_aliases_stdlib_local_and_unknown_imports() -> None:
    found = resolve(["sklearn", "skimage", "cv2", "json", "helpers", "surely_not_a_package_xyz", "demo", "jinja2"],
                    local_names={"helpers"}, own_package="demo")
    assert found.requirements["scikit-image"] == "scikit-image"  # not installed here: no bound
    assert found.requirements["scikit-learn"].startswith("scikit-learn>=")  # a test dependency: installed
    assert found.requirements["opencv-python"] == "opencv-python"
    assert found.requirements["jinja2"].startswith("jinja2>=")  # installed: lower bound from its version
    assert "json" not in str(found.requirements)
    assert found.local == ["helpers"]
    # not installed and not in the table: declared under its import name, and said to be assumed
    assert found.requirements["surely-not-a-package-xyz"] == "surely-not-a-package-xyz"
    assert found.assumed["surely_not_a_package_xyz"] == "surely-not-a-package-xyz"
    assert "sklearn" not in found.assumed and "jinja2" not in found.assumed
    assert found.unresolved == []


@pytest.mark.parametrize(
    ("module", "distribution"),
    [("datasets", "datasets"), ("huggingface_hub.hf_api", "huggingface-hub"), ("mlflow.sklearn", "mlflow"),
     ("ray.tune", "ray"), ("PIL.Image", "pillow"), ("yaml", "pyyaml"), ("bs4", "beautifulsoup4"),
     ("dateutil.parser", "python-dateutil"), ("Crypto.Cipher", "pycryptodome"), ("google.protobuf", "protobuf"),
     ("tensorflow_hub", "tensorflow-hub"), ("lightgbm", "lightgbm"), ("xgboost", "xgboost"),
     ("catboost", "catboost"), ("torchvision.models", "torchvision"), ("transformers", "transformers"),
     ("google.cloud.storage", "google-cloud-storage"), ("cv2", "opencv-python"), ("skimage.io", "scikit-image")],
)
def test_imports_are_declared_from_the_table_installed_or_not(module: str, distribution: str) -> None:
    found = resolve([module], set(), "demo")
    assert list(found.requirements) == [distribution]
    assert Requirement(found.requirements[distribution]).name == distribution


def test_unknown_imports_are_not_assumed_when_the_notebook_reaches_local_code() -> None:
    found = resolve(["surely_not_a_package_xyz", "datasets"], set(), "demo", assume_unknown=False)
    assert found.unresolved == ["surely_not_a_package_xyz"]
    assert "datasets" in found.requirements  # the table still names it


def test_notebook_only_modules_are_never_declared_and_namespaces_need_a_known_name() -> None:
    found = resolve(["google.colab.drive", "google.colab", "google.surely_unknown_xyz"], set(), "demo")
    assert found.requirements == {}
    assert found.notebook_only == ["google.colab"]
    assert found.unresolved == ["google.surely_unknown_xyz"]  # "google" is no distribution; not guessed


@pytest.mark.parametrize(
    ("requires_python", "oldest"),
    [(">=3.10", (3, 10, 0)), (">=3.9,<3.13", (3, 9, 0)), ("~=3.11", (3, 11, 0)), ("==3.12.*", (3, 12, 0)),
     (">3.10", (3, 10, 1)), (None, None), ("", None), ("not a specifier", None), ("<3", None)],
)
def test_oldest_python_of_requires_python(requires_python: str | None, oldest: tuple[int, int, int] | None) -> None:
    assert oldest_python(requires_python) == oldest


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Pretend distributions are installed: name -> (version, Requires-Python)."""
    fake: dict[str, tuple[str, str | None]] = {}
    monkeypatch.setattr(deps, "_version", lambda name: fake[name][0] if name in fake else None)
    monkeypatch.setattr(deps, "_requires_python", lambda name: fake[name][1] if name in fake else None)
    return fake


def test_the_installed_major_minor_is_the_bound_when_it_supports_the_oldest_python(installed) -> None:  # type: ignore
    installed["pandas"] = ("2.3.3", ">=3.9")
    assert bound("pandas", PY310) == ("pandas>=2.3", None)
    installed["torch"] = ("2.9.1", None)  # says nothing against any Python
    assert bound("torch", PY310) == ("torch>=2.9", None)


def test_a_release_too_new_for_the_oldest_python_gives_way_to_the_last_supporting_it(installed) -> None:  # type: ignore
    installed["pandas"] = ("3.1.1", ">=3.11")
    installed["numpy"] = ("2.4.6", ">=3.11")
    installed["scikit-learn"] = ("1.9.1", ">=3.11")
    assert bound("pandas", PY310)[0] == "pandas>=2.3"
    assert bound("numpy", PY310)[0] == "numpy>=2.2"
    requirement, note = bound("scikit-learn", PY310)
    assert requirement == "scikit-learn>=1.7"
    assert note is not None and "1.9.1" in note and ">=3.11" in note and "Python 3.10" in note
    assert bound("pandas", (3, 11, 0)) == ("pandas>=3.1", None)  # a project for 3.11 on keeps the installed one
    assert bound("pandas", None) == ("pandas>=3.1", None)  # no requires-python: nothing to exclude


def test_without_a_known_release_for_that_python_there_is_no_bound_and_a_note(installed) -> None:  # type: ignore
    installed["shiny-new-thing"] = ("5.0", ">=3.12")
    requirement, note = bound("shiny-new-thing", PY310)
    assert requirement == "shiny-new-thing"
    assert note is not None and "without a lower bound" in note


def test_resolve_reports_the_bounds_it_lowered(installed) -> None:  # type: ignore
    installed["pandas"] = ("3.1.1", ">=3.11")
    found = resolve(["pandas"], set(), "demo", python=PY310)
    assert found.requirements == {"pandas": "pandas>=2.3"}
    assert len(found.notes) == 1 and found.assumed == {}


def test_the_bounds_follow_the_installed_metadata() -> None:
    """Against what is really installed: the installed major.minor when its release admits 3.10, else lower."""
    from packaging.version import Version

    found = resolve(["numpy", "pandas", "sklearn", "scipy"], set(), "demo", python=PY310)
    assert set(found.requirements) == {"numpy", "pandas", "scikit-learn", "scipy"}
    for name, text in found.requirements.items():
        floor = Version(next(iter(Requirement(text).specifier)).version)
        installed = Version(version(name))
        if SpecifierSet(metadata(name).get("Requires-Python") or "").contains("3.10.0"):
            assert floor.release == installed.release[:2]
        else:
            assert floor < Version(f"{installed.major}.{installed.minor}")


def test_combine_keeps_extras_from_either_side_and_the_first_bound() -> None:
    assert combine("diffusers[training]", "diffusers>=0.30") == "diffusers[training]>=0.30"
    assert combine("ray[tune]==2.9", "ray[data]>=2.0") == "ray[data,tune]==2.9"
    assert combine('numpy; python_version < "3.12"', "numpy>=2.2") == 'numpy>=2.2; python_version < "3.12"'
    assert combine("numpy", "pandas>=2") == "numpy"  # different distributions: the first, unchanged


def test_merge_adds_missing_requirements_and_never_changes_the_users() -> None:
    document = tomlkit.parse('[project]\nname = "x"\ndependencies = ["Scikit_Learn==1.0", "requests"]\n')
    added = merge_dependencies(document, {"scikit-learn": "scikit-learn>=1.5", "numpy": "numpy>=2.0"})
    assert added == ["numpy>=2.0"]
    assert document["project"]["dependencies"] == ["Scikit_Learn==1.0", "requests", "numpy>=2.0"]


def test_merge_adds_extras_beside_the_users_entry() -> None:
    document = tomlkit.parse('[project]\nname = "x"\ndependencies = ["diffusers>=0.31", "ray[tune]"]\n')
    added = merge_dependencies(document, {"diffusers": "diffusers[training]", "ray": "ray[tune]>=2"})
    assert added == ["diffusers[training]"]  # ray[tune] is declared: the user's bound stays
    assert document["project"]["dependencies"] == ["diffusers>=0.31", "ray[tune]", "diffusers[training]"]
    assert merge_dependencies(document, {"diffusers": "diffusers[training]"}) == []


def test_merge_respects_dynamic_dependencies() -> None:
    document = tomlkit.parse('[project]\nname = "x"\ndynamic = ["dependencies"]\n')
    assert merge_dependencies(document, {"numpy": "numpy"}) == []
    assert "dependencies" not in document["project"]
