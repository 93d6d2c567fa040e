"""Rendering CI pipelines: settings validation, the jobs each option produces, escaping, edit safety."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from mlpack_cli.commands import ci
from mlpack_cli.errors import ExitCode, FileConflict, InvalidInput
from mlpack_cli.commands.init import InitSettings, init_project

NAME, PACKAGE = "churn-model", "churn_model"
TAG_JOBS = {"publish", "container", "smoke", "deploy", "monitor"}


def options(**table: Any) -> ci.CiOptions:
    return ci.CiOptions.from_tool(table, name=NAME, package=PACKAGE)


def gitlab(**table: Any) -> dict[str, Any]:
    document: dict[str, Any] = YAML(typ="safe").load(io.StringIO(ci.render_pipeline("gitlab", options(**table))))
    return document


def jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in document.items() if isinstance(value, dict) and "stage" in value}


# -- settings ----------------------------------------------------------------------------------


def test_defaults_publish_to_gitlab_and_build_the_image_there() -> None:
    opts = options()
    assert (opts.python_image, opts.index, opts.index_url) == (ci.DEFAULT_PYTHON_IMAGE, "gitlab", None)
    assert opts.gitlab_image == "$CI_REGISTRY_IMAGE" and opts.registry is None
    assert opts.container and opts.deploy and opts.monitor and opts.convert_check


@pytest.mark.parametrize(
    ("index", "url"),
    [("pypi", "https://upload.pypi.org/legacy/"), ("testpypi", "https://test.pypi.org/legacy/"),
     ("https://nexus.example.org/repository/pypi/", "https://nexus.example.org/repository/pypi/")],
)
def test_named_indexes_and_urls_resolve_to_upload_urls(index: str, url: str) -> None:
    assert options(index=index).index_url == url


@pytest.mark.parametrize(
    ("image", "registry"),
    [("registry.example.org/team/model", "registry.example.org"), ("localhost:5000/model", "localhost:5000"),
     ("team/model", "https://index.docker.io/v1/")],
)
def test_the_registry_to_log_in_to_is_taken_from_the_image(image: str, registry: str) -> None:
    assert options(image=image).registry == registry


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"colour": "blue"}, "unknown key(s): colour"),
        ({"container": "yes"}, "must be true or false"),
        ({"index": "ftp://example.org"}, "neither gitlab, pypi, testpypi nor an http(s) URL"),
        ({"deployment-tier": "prod"}, "is not one GitLab knows"),
        ({"python-image": "python:3.11 slim"}, "is not valid"),
        ({"python-image": "$PYTHON_IMAGE"}, "is not valid"),  # it is also the Dockerfile's ARG default
        ({"environment": "prod;rm"}, "is not valid"),
        ({"environment-url": "javascript:alert(1)"}, "is not valid"),
        ({"mlpack-requirement": "mlpack-cli; rm -rf /"}, "is not valid"),
        ({"jenkins-index-credentials": "my creds"}, "is not valid"),
        ({"deploy-script": []}, "must be a list of shell commands"),
        ({"deploy-script": ["echo one\necho two"]}, "control character"),
        ({"environment": ""}, "non-empty string"),
        ({"index": "https://user:secret@nexus.example.org/pypi/"}, "appears to contain a credential"),
        ({"deploy-script": ["curl -H 'PRIVATE-TOKEN: glpat-abcdefghij' https://x"]}, "contain a credential"),
    ],
)
def test_values_that_cannot_be_made_safe_are_refused(table: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as raised:
        options(**table)
    assert raised.value.exit_code == ExitCode.INVALID_INPUT
    assert raised.value.hint, "every refusal says what to write instead"


@pytest.mark.parametrize(
    ("table", "hint"),
    [
        ({"container": "yes"}, "Pass --container or --no-container, or write `container = true` or "
                               "`container = false` in [tool.mlpack.ci] (a TOML boolean, without quotes)."),
        ({"convert-check": "no"}, "Write `convert-check = true` or `convert-check = false` in [tool.mlpack.ci]"),
        ({"environment": ""}, 'Write environment = "..." in [tool.mlpack.ci] as a quoted TOML string '
                              "(letters, digits, spaces and - _ / $ { })."),
        ({"index": 3}, 'Write index = "..." in [tool.mlpack.ci] as a quoted TOML string.'),
        ({"deploy-script": {"run": "x"}}, 'Write e.g. deploy-script = ["kubectl apply -f k8s/"]'),
    ],
)
def test_wrong_types_get_a_hint_saying_what_to_write(table: dict[str, Any], hint: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        options(**table)
    assert hint in (raised.value.hint or "")


def test_options_made_directly_are_validated_too() -> None:
    with pytest.raises(InvalidInput, match="appears to contain a credential"):
        ci.CiOptions(name=NAME, package=PACKAGE, index="https://user:secret@nexus.example.org/pypi/")
    with pytest.raises(InvalidInput, match="control character"):
        ci.CiOptions(name=NAME, package=PACKAGE, deploy_script=("ok", "two\nlines"))


def test_errors_name_the_option_as_the_user_gave_it() -> None:
    with pytest.raises(InvalidInput, match=re.escape("--deployment-tier / [tool.mlpack.ci] deployment-tier")):
        options(**{"deployment-tier": "prod"})


def test_tomlkit_tables_are_read_like_dicts() -> None:
    import tomlkit

    table = tomlkit.parse('[ci]\ncontainer = false\nindex = "pypi"\n')["ci"]
    opts = ci.CiOptions.from_tool(table, name=NAME, package=PACKAGE)  # type: ignore[arg-type]
    assert (opts.container, opts.index) == (False, "pypi")


# -- GitLab pipeline ---------------------------------------------------------------------------


def test_gitlab_stages_and_the_jobs_of_each() -> None:
    document = gitlab()
    assert document["stages"] == ["lint", "test", "build", "publish", "container", "deploy", "monitor"]
    assert {name: job["stage"] for name, job in jobs(document).items()} == {
        "lint": "lint", "test": "test", "audit": "test", "build": "build", "publish": "publish",
        "container": "container",
        "smoke": "container", "deploy": "deploy", "monitor": "monitor",
    }
    assert document["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
    assert document["cache"]["paths"] == [".cache/pip"]


def test_gitlab_test_job_reports_junit_and_coverage_and_checks_the_notebooks() -> None:
    test = gitlab()["test"]
    assert test["artifacts"]["reports"]["junit"] == "report.xml"
    assert test["artifacts"]["reports"]["coverage_report"] == {"coverage_format": "cobertura", "path": "coverage.xml"}
    assert "mlpack convert --check" in test["script"]
    assert any("--junitxml=report.xml" in line and "--cov=" in line for line in test["script"])
    assert re.search(test["coverage"].strip("/"), "TOTAL      120     30    75%")
    assert "mlpack convert --check" not in gitlab(**{"convert-check": False})["test"]["script"]


def test_gitlab_build_keeps_sdist_and_wheel() -> None:
    build = gitlab()["build"]
    assert build["artifacts"]["paths"] == ["dist/"]
    assert "python -m build" in build["script"]


def test_gitlab_publish_uses_the_job_token_for_the_project_registry() -> None:
    publish = gitlab()["publish"]
    assert publish["rules"] == [{"if": "$CI_COMMIT_TAG"}]
    assert publish["variables"] == {
        "TWINE_USERNAME": "gitlab-ci-token",
        "TWINE_PASSWORD": "$CI_JOB_TOKEN",
        "TWINE_REPOSITORY_URL": "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi",
    }


@pytest.mark.parametrize("index", ["gitlab", "pypi", "https://nexus.example.org/repository/pypi/"])
def test_publish_skips_a_version_mlpack_release_already_uploaded(index: str) -> None:
    document = gitlab(index=index, **{"mlpack-requirement": "mlpack-cli==1.2.3"})
    assert document["variables"]["MLPACK_REQUIREMENT"] == "mlpack-cli==1.2.3"
    script = document["publish"]["script"]
    assert script[-2:] == ['python -m pip install "$MLPACK_REQUIREMENT"', "mlpack publish --skip-existing dist/*"]
    assert not any("twine upload" in line for line in script)  # it would refuse the version release uploaded
    jenkins = ci.render_pipeline("jenkins", options(index=index))
    assert "sh '.venv/bin/mlpack publish --skip-existing dist/*'" in jenkins
    assert "twine upload" not in jenkins


def test_gitlab_publish_to_another_index_leaves_credentials_to_ci_variables() -> None:
    publish = gitlab(index="https://nexus.example.org/repository/pypi/")["publish"]
    assert publish["variables"] == {"TWINE_REPOSITORY_URL": "https://nexus.example.org/repository/pypi/"}
    assert any("TWINE_PASSWORD" in line and "exit 1" in line for line in publish["script"])


def test_gitlab_container_builds_rootless_from_the_wheel_and_pushes_the_tag() -> None:
    document = gitlab()
    container, smoke = document["container"], document["smoke"]
    assert container["image"]["name"] == "moby/buildkit:rootless"
    assert container["variables"]["BUILDKITD_FLAGS"] == "--oci-worker-no-process-sandbox"
    assert container["needs"] == ["build"] and "privileged" not in str(container)
    script = "\n".join(container["script"])
    assert "buildctl-daemonless.sh build" in script
    assert 'name="$MLPACK_IMAGE:$CI_COMMIT_TAG",push=true' in script
    assert document["variables"]["MLPACK_IMAGE"] == "$CI_REGISTRY_IMAGE"
    assert smoke["image"]["name"] == "$MLPACK_IMAGE:$CI_COMMIT_TAG" and smoke["needs"] == ["container"]
    assert smoke["script"] == [f"python -c 'import {PACKAGE}; print({PACKAGE}.__version__)'"]


def test_gitlab_container_for_another_registry_logs_in_there() -> None:
    document = gitlab(image="registry.example.org/team/model")
    assert document["variables"]["MLPACK_IMAGE"] == "registry.example.org/team/model"
    assert document["container"]["variables"]["MLPACK_REGISTRY"] == "registry.example.org"


def test_gitlab_deploy_environment_and_monitor_webhook() -> None:
    document = gitlab(environment="staging", **{"environment-url": "https://staging.example.org",
                                                "deployment-tier": "staging"})
    deploy, monitor = document["deploy"], document["monitor"]
    assert deploy["environment"] == {"name": "staging", "url": "https://staging.example.org",
                                     "deployment_tier": "staging"}
    assert deploy["needs"] == ["publish", "smoke"]
    assert monitor["rules"] == [{"if": "$CI_COMMIT_TAG && $MLPACK_WEBHOOK_URL"}]
    assert monitor["allow_failure"] is True
    assert 'monitoring.py" notify release' in monitor["script"][0]


def test_tag_only_jobs_run_only_for_tags() -> None:
    for name, job in jobs(gitlab()).items():
        rules = job.get("rules", [])
        assert (name in TAG_JOBS) == any("$CI_COMMIT_TAG" in rule["if"] for rule in rules), name


@pytest.mark.parametrize(("container", "deploy", "monitor"), list(itertools.product([True, False], repeat=3)))
def test_switching_jobs_off_keeps_needs_consistent(container: bool, deploy: bool, monitor: bool) -> None:
    found = jobs(gitlab(container=container, deploy=deploy, monitor=monitor))
    expected = {"lint", "test", "audit", "build", "publish"} | ({"container", "smoke"} if container else set())
    expected |= ({"deploy"} if deploy else set()) | ({"monitor"} if monitor else set())
    assert set(found) == expected
    for name, job in found.items():
        assert set(job.get("needs", [])) <= set(found), name


def test_hostile_values_survive_yaml_exactly() -> None:
    script = ["echo \"it's: #1\" && printf '%s\\n' \"$CI_COMMIT_TAG\" {a: b} [c] & @x `d` \\ | > *e"]
    url = "https://example.org/a?b=c&d=${CI_COMMIT_TAG}#f:{x}"
    document = gitlab(**{"deploy-script": script, "environment-url": url})
    assert document["deploy"]["script"] == script
    assert document["deploy"]["environment"]["url"] == url


def test_every_value_in_a_pipeline_goes_through_an_escaping_filter() -> None:
    from mlpack_cli.templating import template_root

    validated = {"options.name"}  # checked by CiOptions: a PEP 508 name, safe even unquoted
    for name in ("gitlab-ci.yml.j2", "Jenkinsfile.j2"):
        text = template_root().joinpath("ci", name).read_text()
        expressions = re.findall(r"\{\{(.*?)\}\}", text)
        assert expressions, name
        for expression in expressions:
            assert re.search(r"\|\s*(yaml|groovy)\s*$", expression) or expression.strip() in validated, expression


@pytest.mark.parametrize(("name", "package"), [("a\nb", "ab"), ("ok", "not-an-identifier"), ("x'y", "x")])
def test_unsafe_names_are_refused(name: str, package: str) -> None:
    with pytest.raises(InvalidInput, match="cannot render CI files"):
        ci.CiOptions.from_tool({}, name=name, package=package)


def test_no_secret_is_written() -> None:
    for table in ({}, {"index": "pypi"}, {"image": "registry.example.org/team/model"}):
        for kind in ci.CI_FILES:
            text = ci.render_pipeline(kind, options(**table))
            assert not re.search(r"(glpat-|pypi-AgE|PASSWORD\s*[:=]\s*['\"]?[A-Za-z0-9])", text), (kind, table)


# -- files -------------------------------------------------------------------------------------


def test_generated_files_include_the_dockerfile_only_with_the_container() -> None:
    assert set(ci.generated_files(["gitlab", "jenkins"], options())) == {
        ".gitlab-ci.yml", "Jenkinsfile", "Dockerfile", ".dockerignore"}
    assert set(ci.generated_files(["jenkins"], options(container=False))) == {"Jenkinsfile"}
    assert ci.generated_files([], options()) == {}


def test_dockerfile_installs_the_wheel_as_a_non_root_user_with_a_healthcheck() -> None:
    dockerfile = ci.generated_files(["gitlab"], options())["Dockerfile"]
    assert f"RUN {ci.WHEEL_INSTALL_COMMAND} && rm -rf {ci.WHEEL_DIR}" in dockerfile
    assert f"COPY dist/*.whl {ci.WHEEL_DIR}/" in dockerfile
    assert "USER 10001:10001" in dockerfile and "HEALTHCHECK" in dockerfile
    assert f'CMD ["python", "-c", "import {PACKAGE}"]' in dockerfile
    assert ci.generated_files(["gitlab"], options())[".dockerignore"].splitlines()[-2:] == ["*", "!dist/*.whl"]


def test_kinds_for_each_choice() -> None:
    assert [ci.kinds_for(c) for c in ("gitlab", "jenkins", "both", "none")] == [
        ["gitlab"], ["jenkins"], ["gitlab", "jenkins"], []]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "churn-model"
    init_project(InitSettings(path=root, ci="none"))
    return root


def test_write_ci_writes_everything_then_is_idempotent(project: Path) -> None:
    (project / f"src/{PACKAGE}/monitoring.py").unlink(missing_ok=True)  # the monitor job needs it: added
    result = ci.write_ci(project, "both")
    written = {e.path.as_posix() for e in result.plan.changes}
    assert written == {".gitlab-ci.yml", "Jenkinsfile", "Dockerfile", ".dockerignore",
                       f"src/{PACKAGE}/monitoring.py"}
    assert (project / ".gitlab-ci.yml").read_text() == ci.render_pipeline("gitlab", result.options)
    assert (project / f"src/{PACKAGE}/monitoring.py").read_text() == ci.render_monitoring(PACKAGE)
    assert not ci.write_ci(project, "both").plan.changed


def test_settings_come_from_pyproject_and_options_override_them(project: Path) -> None:
    with (project / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.mlpack.ci]\nindex = "pypi"\ncontainer = false\n')
    assert ci.plan_ci(project, "gitlab").options.index == "pypi"
    result = ci.plan_ci(project, "gitlab", {"index": "testpypi", "container": None})
    assert (result.options.index, result.options.container) == ("testpypi", False)


def test_edits_are_never_dropped_without_force(project: Path) -> None:
    ci.write_ci(project, "gitlab")
    edited = (project / ".gitlab-ci.yml").read_text() + "# our own tweak\n"
    (project / ".gitlab-ci.yml").write_text(edited)

    with pytest.raises(FileConflict, match=r"\.gitlab-ci\.yml") as raised:
        ci.write_ci(project, "gitlab", {"deploy": False})
    assert raised.value.exit_code == ExitCode.CONFLICT
    assert (project / ".gitlab-ci.yml").read_text() == edited

    preview = ci.write_ci(project, "gitlab", dry_run=True)
    (difference,) = preview.differences
    assert "-# our own tweak" in difference.diff
    assert (project / ".gitlab-ci.yml").read_text() == edited
    with pytest.raises(FileConflict) as predicted:  # the dry run's verdict is the real run's
        preview.refuse_dropped_edits(dry_run=True)
    assert predicted.value.exit_code == raised.value.exit_code
    assert "Nothing would be written" in (predicted.value.hint or "")
    ci.write_ci(project, "gitlab", force=True, dry_run=True).refuse_dropped_edits(dry_run=True)  # --force: fine

    ci.write_ci(project, "gitlab", force=True)
    assert (project / ".gitlab-ci.yml").read_text() == ci.render_pipeline("gitlab", preview.options)


def test_an_edited_monitoring_module_is_left_alone(project: Path) -> None:
    module = project / f"src/{PACKAGE}/monitoring.py"
    module.write_text("# mine\n")
    ci.write_ci(project, "gitlab", force=True)
    assert module.read_text() == "# mine\n"


def test_unknown_kind_is_refused(project: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown CI kind 'travis'"):
        ci.plan_ci(project, "travis")


def test_init_writes_the_same_pipelines(tmp_path: Path) -> None:
    root = tmp_path / "churn-model"
    init_project(InitSettings(path=root, ci="both"))
    for kind, path in ci.CI_FILES.items():
        assert (root / path).read_text() == ci.render_pipeline(kind, options())


# -- supply chain: pinned tools, images by digest, the audit job ---------------------------------

DIGEST = "sha256:" + "0123456789abcdef" * 4


def test_mlpack_is_pinned_to_the_version_that_wrote_the_file_unless_overridden() -> None:
    from mlpack_cli import __version__

    pinned = f"mlpack-cli=={__version__}"
    assert options().mlpack_requirement == pinned
    assert gitlab()["variables"]["MLPACK_REQUIREMENT"] == pinned
    assert f"MLPACK_REQUIREMENT = '{pinned}'" in ci.render_pipeline("jenkins", options())
    assert gitlab(**{"mlpack-requirement": "mlpack-cli==9.9.9"})["variables"]["MLPACK_REQUIREMENT"] == \
        "mlpack-cli==9.9.9"


def pip_installs(text: str) -> list[list[str]]:
    """The arguments of every `pip install` in a rendered pipeline, unquoted."""
    import shlex

    found = []
    for line in text.splitlines():
        match = re.search(r"pip install (.*?)'?$", line)
        if match:
            found.append(shlex.split(match.group(1).removesuffix("'")))
    return found


@pytest.mark.parametrize("kind", list(ci.CI_FILES))
def test_every_tool_a_job_installs_is_pinned(kind: str) -> None:
    text = ci.render_pipeline(kind, options(**{"convert-check": True}))
    installs = pip_installs(text)
    assert len(installs) >= 6, installs
    pinned: dict[str, str] = {}
    for arguments in installs:
        for argument in arguments:
            if argument in ("-e", ".[test]", "$MLPACK_REQUIREMENT"):  # the project itself; mlpack (pinned)
                continue
            name, _, version = argument.partition("==")
            assert version, f"{kind}: {argument!r} is not pinned"
            pinned[name] = version
    assert pinned == ci.PINNED_TOOLS, "both pipelines pin the same versions, those ci.PINNED_TOOLS lists"


def test_images_can_be_pinned_by_digest_everywhere_they_are_used() -> None:
    table = {"python-image": f"python:3.11-slim@{DIGEST}", "buildkit-image": f"moby/buildkit:rootless@{DIGEST}"}
    document = gitlab(**table)
    assert document["default"]["image"] == table["python-image"]
    assert document["container"]["image"]["name"] == table["buildkit-image"]
    jenkins = ci.render_pipeline("jenkins", options(**table))
    assert f"image '{table['python-image']}'" in jenkins and f"image '{table['buildkit-image']}'" in jenkins
    dockerfile = ci.generated_files(["gitlab"], options(**table))["Dockerfile"]
    assert f"ARG PYTHON_IMAGE={table['python-image']}\n" in dockerfile


@pytest.mark.parametrize(
    "image", [f"python:3.11@{DIGEST[:-1]}", f"python:3.11@{DIGEST.upper()}", "python:3.11@latest",
              "moby/buildkit:rootless; id"],
)
def test_a_bad_digest_or_image_from_the_command_line_is_refused_too(image: str) -> None:
    for key in ("python-image", "buildkit-image"):
        with pytest.raises(InvalidInput, match="is not valid") as raised:
            options(**{key: image})
        assert "sha256:<64 hex digits>" in (raised.value.hint or "")


def test_the_audit_job_runs_in_every_pipeline_and_gates_the_build() -> None:
    document = gitlab()
    audit = document["audit"]
    assert audit["stage"] == "test" and audit["needs"] == [] and "rules" not in audit and "only" not in audit
    assert "allow_failure" not in audit
    assert audit["script"][0] == f'python -m pip install "pip-audit=={ci.PINNED_TOOLS["pip-audit"]}"'
    assert audit["script"][1] == "pip-audit --strict --progress-spinner off --desc on ."
    # build has no `needs`: it waits for the whole test stage, so a vulnerability stops every later job
    assert "needs" not in document["build"] and document["publish"]["needs"] == ["build"]


def test_accepted_advisories_become_ignore_vuln_options() -> None:
    accepted = ["GHSA-jjg7-2v4v-x38h", "PYSEC-2024-60"]
    document = gitlab(**{"audit-ignore": accepted})
    assert document["audit"]["script"][1] == (
        "pip-audit --strict --progress-spinner off --desc on --ignore-vuln GHSA-jjg7-2v4v-x38h "
        "--ignore-vuln PYSEC-2024-60 .")
    jenkins = ci.render_pipeline("jenkins", options(**{"audit-ignore": accepted}))
    assert ("sh '.venv/bin/pip-audit --strict --progress-spinner off --desc on --ignore-vuln GHSA-jjg7-2v4v-x38h "
            "--ignore-vuln PYSEC-2024-60 .'") in jenkins
    assert jenkins.index("stage('audit')") < jenkins.index("stage('build')")


@pytest.mark.parametrize(
    ("value", "message"),
    [("GHSA-1", "must be a list of advisory ids"), (["GHSA-1; curl evil"], "is not valid"),
     (["ghsa-lower-case"], "is not valid"), ([""], "non-empty string"), (["GHSA-a\nb"], "control character")],
)
def test_accepted_advisories_are_checked_before_they_reach_a_command_line(value: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as raised:
        options(**{"audit-ignore": value})
    assert raised.value.hint


def test_the_docs_name_the_pinned_versions() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "ci.md").read_text()
    for name, version in ci.PINNED_TOOLS.items():
        assert f"`{name}=={version}`" in text, name


# -- no credential reaches a generated file ------------------------------------------------------

_PASSWORD_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="@\"'\\`<>")


@settings(max_examples=60, deadline=None)
# a password of digits then "/" reads as a port and a path (user:123/x@host): no parser can tell;
# "***" is what the message shows in its place
@given(password=st.text(_PASSWORD_CHARS, min_size=1, max_size=24).filter(
    lambda p: not re.match(r"\d*/", p) and p != "***"))
def test_an_index_url_with_any_password_is_refused_and_never_echoed(password: str) -> None:
    """``user:<password>@`` is refused whatever the password holds ("/", "?", "#" and ":" included)."""
    url = f"https://deployer:{password}@nexus.example.org/repository/pypi/"
    with pytest.raises(InvalidInput) as raised:
        options(index=url)
    shown = raised.value.message + (raised.value.hint or "")
    assert f"deployer:{password}@" not in shown
    assert "TWINE_PASSWORD" in (raised.value.hint or ""), "the hint says how to pass the password instead"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"index": "http://user:pa/ss@host/simple/"}, "user:password@"),
        ({"index": "https://upload.example.org/legacy/?token=0123abcd"}, "token= in the query"),
        ({"environment-url": "https://app.example.org/?api_key=s3cr3t"}, "api_key= in the query"),
        ({"deploy-script": ["pip install --index-url http://ci:pa/ss@pkgs.example.org/simple/ app"]},
         "user:password@"),
        ({"deploy-script": ["curl -fsS 'https://hooks.example.org/deploy?sig=abc123'"]}, "sig= in the query"),
    ],
)
def test_credentials_in_any_url_of_a_setting_are_refused(table: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as raised:
        options(**table)
    assert raised.value.exit_code == ExitCode.INVALID_INPUT
    for secret in ("pa/ss", "0123abcd", "s3cr3t", "abc123"):
        assert secret not in raised.value.message


def test_a_variable_in_a_query_is_no_credential() -> None:
    assert options(**{"deploy-script": ["curl -fsS https://hooks.example.org/deploy?token=$DEPLOY_TOKEN"]})


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS Access Key"),
        ('curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc" https://x',
         "JSON Web Token"),
        ("export API_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "Secret Keyword"),
    ],
)
def test_a_secret_the_detector_finds_in_a_setting_never_reaches_a_pipeline(command: str, kind: str) -> None:
    opts = options(**{"deploy-script": ["kubectl apply -f k8s/", command]})
    with pytest.raises(InvalidInput) as raised:
        ci.generated_files(["gitlab", "jenkins"], opts)
    assert f"deploy-script item 2: {kind}" in raised.value.message
    assert command.split("=")[-1] not in raised.value.message + (raised.value.hint or "")
    assert "pragma: allowlist secret" in (raised.value.hint or "")


def test_the_detector_pragma_lets_a_value_that_is_no_secret_through() -> None:
    command = "export API_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0  # pragma: allowlist secret"
    files = ci.generated_files(["gitlab"], options(**{"deploy-script": [command]}))
    assert "9f8e7d6c5b4a39281706f5e4d3c2b1a0" in files[".gitlab-ci.yml"]


# -- a project that serves: train job, serving image, smoke prediction, Kubernetes deploy ------

SERVING = {"serving_module": "houses", "model_path": "dist/model.json", "script": NAME}
RECORD = {"size_m2": 117, "rooms": 2, "city": "Lyon"}


def serving_options(**table: Any) -> ci.CiOptions:
    import dataclasses

    table.setdefault("smoke-record", RECORD)
    return dataclasses.replace(options(**table), **SERVING)


def serving_gitlab(**table: Any) -> dict[str, Any]:
    text = ci.render_pipeline("gitlab", serving_options(**table))
    document: dict[str, Any] = YAML(typ="safe").load(io.StringIO(text))
    return document


def test_a_serving_pipeline_trains_between_build_and_publish_on_tags() -> None:
    document = serving_gitlab()
    assert document["stages"] == ["lint", "test", "build", "train", "publish", "container", "deploy", "monitor"]
    train = document["train"]
    assert train["needs"] == ["build"] and train["rules"] == [{"if": "$CI_COMMIT_TAG"}]
    assert train["script"][0] == "python -m pip install dist/*.whl"
    assert train["script"][1].startswith(f"{NAME} run houses > {ci.TRAIN_OUTPUT} ")
    assert train["script"][2] == ci.shlex.join(["python", "-c", ci.METRICS_CODE])
    assert train["artifacts"]["paths"] == ["dist/model.json*", "metrics.json", "train-output.txt"]
    assert train["artifacts"]["reports"] == {"metrics": "metrics.txt"}
    assert document["container"]["needs"] == ["build", "train"]


def test_without_a_console_script_the_jobs_run_the_pipelines_module() -> None:
    import dataclasses

    opts = dataclasses.replace(serving_options(), script=None)
    assert opts.train_command().startswith(f"python -m {PACKAGE}.pipelines run houses > ")
    assert opts.serve_command()[:4] == ["python", "-m", f"{PACKAGE}.pipelines", "serve"]


def test_the_smoke_job_serves_the_image_and_posts_the_configured_record() -> None:
    smoke = serving_gitlab()["smoke"]
    assert ci.json.loads(smoke["variables"]["MLPACK_SMOKE_RECORD"]) == RECORD
    opts = serving_options()
    expected = ["python", "-c", ci.SMOKE_CODE, "8080", NAME, "serve", "houses", "--model",
                "/home/app/model/model.json", "--host", "127.0.0.1", "--port", "8080"]
    assert smoke["script"] == [ci.shlex.join(expected)] and ci.shlex.split(opts.smoke_command) == expected


@pytest.mark.parametrize(("record", "message"), [
    ("size_m2=117", "must be a table of column = value"),
    ({"size": {"m2": 1}}, "must be a table of column = value"),
    ({}, "must be a table of column = value"),
    ({"size": float("nan")}, "holds nan or inf"),
    ({"token": "glpat-abcdefghijklmnop"}, "appears to contain a credential"),
])
def test_a_smoke_record_that_cannot_be_posted_is_refused(record: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        options(**{"smoke-record": record})


def test_the_serving_image_installs_the_serve_extra_copies_the_model_and_serves_on_8080() -> None:
    files = ci.generated_files(["gitlab"], serving_options())
    dockerfile = files["Dockerfile"]
    assert f'RUN python -m pip install --no-cache-dir "$(ls {ci.WHEEL_DIR}/*.whl)[serve]" && rm' in dockerfile
    assert "COPY dist/model.json* /home/app/model/\n" in dockerfile
    assert "USER 10001:10001" in dockerfile and "EXPOSE 8080" in dockerfile
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert ci.json.loads(cmd[4:]) == [NAME, "serve", "houses", "--model", "/home/app/model/model.json",
                                      "--host", "0.0.0.0", "--port", "8080"]
    healthcheck = dockerfile.split("HEALTHCHECK", 1)[1].split("\n")[1].strip()
    check = ci.json.loads(healthcheck.removeprefix("CMD "))
    assert check[:2] == ["python", "-c"] and "urlopen('http://127.0.0.1:8080/healthz'" in check[2]
    assert files[".dockerignore"].splitlines()[-3:] == ["*", "!dist/*.whl", "!dist/model.json*"]


def test_the_deploy_job_applies_the_manifests_with_the_agent_context() -> None:
    deploy = serving_gitlab()["deploy"]
    assert deploy["image"] == {"name": ci.KUBECTL_IMAGE, "entrypoint": [""]}
    script = deploy["script"]
    assert 'kubectl config use-context "$MLPACK_KUBE_CONTEXT"' in script
    assert any('serve="$MLPACK_IMAGE:$MLPACK_TAG"' in line for line in script)
    assert script[-1] == f"kubectl rollout status deployment/{NAME} --timeout=300s"
    files = ci.generated_files(["gitlab"], serving_options())
    assert {"deploy/deployment.yaml", "deploy/service.yaml"} <= set(files)


@pytest.mark.parametrize("table", [{"deploy": False}, {"container": False},
                                   {"deploy-script": ["helm upgrade --install model chart/"]}])
def test_no_manifests_without_the_kubernetes_deploy(table: dict[str, Any]) -> None:
    opts = serving_options(**table)
    assert not opts.kubernetes
    assert not any(path.startswith("deploy/") for path in ci.generated_files(["gitlab", "jenkins"], opts))
    if "deploy-script" in table:
        assert serving_gitlab(**table)["deploy"]["script"] == table["deploy-script"]


@pytest.mark.parametrize(("container", "deploy", "monitor"), list(itertools.product([True, False], repeat=3)))
def test_serving_pipelines_keep_needs_consistent(container: bool, deploy: bool, monitor: bool) -> None:
    found = jobs(serving_gitlab(container=container, deploy=deploy, monitor=monitor))
    assert "train" in found
    for name, job in found.items():
        assert set(job.get("needs", [])) <= set(found), name


def test_jenkins_trains_archives_and_deploys_with_the_kubeconfig_credential() -> None:
    text = ci.render_pipeline("jenkins", serving_options())
    assert "stage('train')" in text and "archiveArtifacts artifacts: 'dist/model.json*, metrics.json" in text
    assert "file(credentialsId: 'mlpack-kubeconfig', variable: 'KUBECONFIG')" in text
    assert "MLPACK_SMOKE_RECORD = '{\"city\": \"Lyon\", \"rooms\": 2, \"size_m2\": 117}'" in text
    assert "stage('train')" not in ci.render_pipeline("jenkins", options())


def test_the_metrics_step_keeps_the_result_json_and_its_numbers(tmp_path: Path) -> None:
    import subprocess
    import sys

    output = 'price = 2.28 * size\n{\n  "metrics": {"mae": 12.5, "n test": 5},\n  "ok": true,\n  "name": "x"\n}\n'
    (tmp_path / ci.TRAIN_OUTPUT).write_text(output)
    done = subprocess.run([sys.executable, "-c", ci.METRICS_CODE], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert ci.json.loads((tmp_path / "metrics.json").read_text())["metrics"] == {"mae": 12.5, "n test": 5}
    assert (tmp_path / "metrics.txt").read_text() == "metrics.mae 12.5\nmetrics.n_test 5\n"
    assert '"mae": 12.5' in done.stdout
    (tmp_path / ci.TRAIN_OUTPUT).write_text("no result\n")
    done = subprocess.run([sys.executable, "-c", ci.METRICS_CODE], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and "printed no JSON result" in done.stderr


SERVING_MODULE = '''# Generated by mlpack convert from notebooks/houses.ipynb.
MODEL_PATH = "dist/model.json"


def run():
    pass


def load_model(path=MODEL_PATH):
    pass


def predict(records, model=None):
    pass
'''


def test_mlpack_ci_finds_the_serving_module_and_the_example_record(project: Path) -> None:
    (project / f"src/{PACKAGE}/houses.py").write_text(SERVING_MODULE)
    (project / "data").mkdir(exist_ok=True)
    (project / "data/houses.csv").write_text("size_m2,price_k\n117,281.8\n")
    result = ci.write_ci(project, "both")
    assert (result.options.serving_module, result.options.model_path) == ("houses", "dist/model.json")
    assert ci.json.loads(result.options.smoke_record or "") == {"size_m2": 117, "price_k": 281.8}
    assert result.notes == []
    assert (project / "deploy/deployment.yaml").is_file() and "stage('train')" in (project / "Jenkinsfile").read_text()


def test_mlpack_ci_says_in_one_line_why_nothing_is_served(project: Path) -> None:
    result = ci.write_ci(project, "gitlab")
    (note,) = result.notes
    assert note.startswith("No serving module (no pipeline module in src/churn_model/ defines MODEL_PATH")
    assert "\n" not in note and not (project / "deploy").exists()
    assert "train:" not in (project / ".gitlab-ci.yml").read_text()
