"""Dependencies: imports mapped to distributions, the standard library left out, user entries kept."""

from __future__ import annotations

import ast

import tomlkit

from mlpack_cli.notebook.deps import merge_dependencies, resolve, top_level_imports


def test_top_level_imports_ignore_relative_and_future_imports() -> None:
    tree = ast.parse("from __future__ import annotations\nimport os.path\nfrom sklearn.svm import SVC\nfrom . import x")
    assert top_level_imports(tree) == ["os", "sklearn"]


def test_aliases_stdlib_local_and_unknown_imports() -> None:
    found = resolve(["sklearn", "skimage", "cv2", "json", "helpers", "surely_not_a_package_xyz", "demo", "jinja2"],
                    local_names={"helpers"}, own_package="demo")
    assert found.requirements["scikit-image"] == "scikit-image"  # not installed here: no bound
    assert found.requirements["scikit-learn"].startswith("scikit-learn>=")  # a test dependency: installed
    assert found.requirements["opencv-python"] == "opencv-python"
    assert found.requirements["jinja2"].startswith("jinja2>=")  # installed: lower bound from its version
    assert "json" not in str(found.requirements)
    assert found.local == ["helpers"]
    assert found.unresolved == ["surely_not_a_package_xyz"]


def test_merge_adds_missing_requirements_and_never_changes_the_users() -> None:
    document = tomlkit.parse('[project]\nname = "x"\ndependencies = ["Scikit_Learn==1.0", "requests"]\n')
    added = merge_dependencies(document, {"scikit-learn": "scikit-learn>=1.5", "numpy": "numpy>=2.0"})
    assert added == ["numpy>=2.0"]
    assert document["project"]["dependencies"] == ["Scikit_Learn==1.0", "requests", "numpy>=2.0"]


def test_merge_respects_dynamic_dependencies() -> None:
    document = tomlkit.parse('[project]\nname = "x"\ndynamic = ["dependencies"]\n')
    assert merge_dependencies(document, {"numpy": "numpy"}) == []
    assert "dependencies" not in document["project"]
