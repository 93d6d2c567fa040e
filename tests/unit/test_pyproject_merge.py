from __future__ import annotations

import tomlkit

from mlpack_cli.pyproject_merge import MergeResult, merge_pyproject

USER_PYPROJECT = """\
# Our team's project file. Keep this comment.
[project]
name = "churn"   # the name on the index
version = "2.3.0"
license = "Apache-2.0"
dependencies = [
    "pandas>=2",  # dataframes
    "scikit-learn",
]

[tool.black]
line-length = 88
"""

WANTED = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "churn"
version = "0.1.0"
license = "MIT"
dependencies = ["pandas>=1", "numpy"]

[project.optional-dependencies]
test = ["pytest>=8"]

[tool.setuptools.packages.find]
where = ["src"]
"""


def merge(existing: str, wanted: str = WANTED, force: bool = False,
          fill_only: frozenset[str] = frozenset()) -> MergeResult:
    return merge_pyproject(tomlkit.parse(existing), tomlkit.parse(wanted), force=force, fill_only=fill_only)


def test_comments_order_and_values_of_the_user_are_kept() -> None:
    result = merge(USER_PYPROJECT)
    text = tomlkit.dumps(result.document)
    assert "# Our team's project file. Keep this comment." in text
    assert '"churn"   # the name on the index' in text
    assert '"pandas>=2",  # dataframes' in text
    assert text.index("[project]") < text.index("[tool.black]")
    data = tomlkit.parse(text).unwrap()
    assert data["project"]["version"] == "2.3.0"
    assert data["project"]["license"] == "Apache-2.0"
    assert data["tool"]["black"] == {"line-length": 88}


def test_missing_tables_and_keys_are_added() -> None:
    data = tomlkit.parse(tomlkit.dumps(merge(USER_PYPROJECT).document)).unwrap()
    assert data["build-system"]["build-backend"] == "setuptools.build_meta"
    assert data["project"]["optional-dependencies"] == {"test": ["pytest>=8"]}
    assert data["tool"]["setuptools"]["packages"]["find"] == {"where": ["src"]}


def test_requirements_are_a_union_by_name_and_user_pins_win() -> None:
    data = merge(USER_PYPROJECT).document.unwrap()
    assert data["project"]["dependencies"] == ["pandas>=2", "scikit-learn", "numpy"]


def test_conflicts_are_reported_and_left_alone() -> None:
    result = merge(USER_PYPROJECT)
    conflicts = {c.key: (c.theirs, c.ours) for c in result.conflicts}
    assert conflicts == {"project.version": ("2.3.0", "0.1.0"), "project.license": ("Apache-2.0", "MIT")}
    assert result.replaced == []


def test_force_replaces_conflicting_values() -> None:
    result = merge(USER_PYPROJECT, force=True)
    assert sorted(result.replaced) == ["project.license", "project.version"]
    assert result.conflicts == []
    assert result.document.unwrap()["project"]["version"] == "0.1.0"


def test_dynamic_keys_are_not_given_a_static_value() -> None:
    existing = '[project]\nname = "churn"\ndynamic = ["version"]\n'
    result = merge(existing)
    assert "version" not in result.document.unwrap()["project"]
    assert "project.version" not in result.added


def test_merging_into_its_own_output_changes_nothing() -> None:
    once = tomlkit.dumps(merge(USER_PYPROJECT).document)
    again = merge(once)
    assert tomlkit.dumps(again.document) == once
    assert again.added == []


def test_fill_only_keys_are_added_when_missing_but_never_conflict_or_get_forced() -> None:
    result = merge(USER_PYPROJECT, force=True, fill_only=frozenset({"project.version"}))
    assert result.document.unwrap()["project"]["version"] == "2.3.0"
    assert result.replaced == ["project.license"]
    fresh = merge('[project]\nname = "churn"\n', fill_only=frozenset({"project.version"}))
    assert fresh.document.unwrap()["project"]["version"] == "0.1.0"


def test_add_script_declares_it_once_and_keeps_the_rest_of_the_file() -> None:
    from mlpack_cli.pyproject_merge import add_script

    document = tomlkit.parse(USER_PYPROJECT)
    assert add_script(document, "churn", "churn.pipelines:main").state == "added"
    assert add_script(document, "churn", "churn.pipelines:main").state == "present"
    text = tomlkit.dumps(document)
    assert text.startswith(USER_PYPROJECT.split("[tool.black]")[0])  # comments and order kept
    assert '[project.scripts]\nchurn = "churn.pipelines:main"\n\n[tool.black]' in text
    assert tomlkit.parse(text)["project"]["scripts"] == {"churn": "churn.pipelines:main"}


def test_add_script_never_replaces_the_users_script_of_that_name() -> None:
    from mlpack_cli.pyproject_merge import add_script

    document = tomlkit.parse(USER_PYPROJECT.replace("[tool.black]", '[project.scripts]\nchurn = "churn.cli:app"\n\n'
                                                                    "[tool.black]"))
    outcome = add_script(document, "churn", "churn.pipelines:main")
    assert (outcome.state, outcome.theirs) == ("taken", "churn.cli:app")
    assert document["project"]["scripts"] == {"churn": "churn.cli:app"}
    assert add_script(document, "churn-run", "churn.pipelines:main").state == "added"  # another name is free


def test_add_script_leaves_dynamic_or_odd_scripts_alone() -> None:
    from mlpack_cli.pyproject_merge import add_script

    dynamic = tomlkit.parse('[project]\nname = "a"\ndynamic = ["scripts"]\n')
    assert add_script(dynamic, "a", "a.pipelines:main").state == "dynamic"
    assert "scripts" not in dynamic["project"]
    odd = tomlkit.parse('[project]\nname = "a"\nscripts = "a:main"\n')
    assert add_script(odd, "a", "a.pipelines:main").state == "invalid"
    assert odd["project"]["scripts"] == "a:main"


def test_extras_survive_the_union_beside_the_users_entry() -> None:
    existing = tomlkit.parse('[project]\nname = "x"\ndependencies = ["diffusers>=0.31", "ray[tune]"]\n')
    wanted = tomlkit.parse('[project]\ndependencies = ["diffusers[training]", "ray[tune]>=2", "Ray[Tune]"]\n')
    result = merge_pyproject(existing, wanted, force=False)
    assert result.document["project"]["dependencies"] == ["diffusers>=0.31", "ray[tune]", "diffusers[training]"]
    assert result.added == ["project.dependencies[diffusers[training]]"]
    assert result.conflicts == []


def test_requirement_covered_compares_names_and_extras_only() -> None:
    from mlpack_cli.pyproject_merge import requirement_covered

    assert requirement_covered(["Diffusers[Training]==0.3"], "diffusers[training]>=0.31")  # the user's pin wins
    assert requirement_covered(["ray[tune]", "ray[data]"], "ray[data,tune]")
    assert not requirement_covered(["ray[tune]"], "ray[data]")
    assert not requirement_covered([], "numpy")
    assert requirement_covered(['numpy; python_version < "3.12"'], "numpy")
