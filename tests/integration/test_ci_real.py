"""Generated pipelines against the real validators and runners.

- every option combination `mlpack ci` offers: GitLab's CI JSON schema (check-jsonschema) and
  `gitlab-ci-local --list` (undefined stages, bad `needs`, jobs without a script);
- the lint, test and build jobs of a generated sample project run for real with
  `gitlab-ci-local --force-shell-executor`;
- every Jenkinsfile variant parses with tree-sitter-groovy and has the declarative structure;
- the Dockerfile's own install command installs the wheel the build job made, in a fresh venv;
- our own .gitlab-ci.yml is what `mlpack ci gitlab` renders for this repository;
- the publish job of a tag pipeline, run by gitlab-ci-local against a real index (pypiserver), skips
  a version `mlpack release` already uploaded.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlpack_cli.commands import ci
from mlpack_cli.project import read_pyproject
from mlpack_cli.commands.init import InitSettings, init_project

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
GITLAB_CI_LOCAL = shutil.which("gitlab-ci-local")
NEEDS_GITLAB_CI_LOCAL = pytest.mark.skipif(
    GITLAB_CI_LOCAL is None,
    reason="gitlab-ci-local is not installed: `npm install -g gitlab-ci-local@4.60` (4.60.x runs on Node 20; "
    ".ci/run installs it)",
)
NEEDS_RSYNC = pytest.mark.skipif(
    shutil.which("rsync") is None,
    reason="rsync is not installed (gitlab-ci-local copies job files with it): `apt-get install -y rsync`",
)

# -- every option combination of `mlpack ci` -------------------------------------------------

INDEXES = ("gitlab", "pypi", "testpypi", "https://nexus.example.org/repository/pypi/")
IMAGES = (None, "registry.example.org/team/churn")
TIERS = ci.DEPLOYMENT_TIERS


@dataclass(frozen=True)
class Variant:
    key: str
    options: ci.CiOptions

    @property
    def jobs(self) -> set[str]:
        """Jobs that exist for a tag pipeline with a webhook configured (every job)."""
        o = self.options
        return ({"lint", "test", "audit", "build", "publish"} | ({"container", "smoke"} if o.container else set())
                | ({"train"} if o.serves else set())
                | ({"deploy"} if o.deploy else set()) | ({"monitor"} if o.monitor else set()))


def variants() -> list[Variant]:
    """The switches' full product with every index and image kind; valued options cycle through their values."""
    result = []
    combos = itertools.product([True, False], [True, False], [True, False], INDEXES, IMAGES)
    for number, (container, deploy, monitor, index, image) in enumerate(combos):
        table: dict[str, Any] = {
            "container": container, "deploy": deploy, "monitor": monitor, "index": index, "image": image,
            "deployment-tier": TIERS[number % len(TIERS)],
            "environment": ("production", "review/$CI_COMMIT_REF_SLUG", "staging")[number % 3],
            "environment-url": (None, "https://churn.example.org/")[number % 2],
            "python-image": ("python:3.12-slim", None)[number % 2],
            "convert-check": number % 3 != 0,
        }
        # Half of each switch setting's variants have a serving module (train job, serving image,
        # manifests), with or without a smoke record, some with a deploy-script of their own.
        serves = (number // 2) % 2 == 1
        if serves:
            table["smoke-record"] = ({"size_m2": 117, "city": "Lyon"}, None)[number % 3 == 1]
            if number % 5 == 3:
                table["deploy-script"] = ["helm upgrade --install churn chart/"]
        options = ci.CiOptions.from_tool(table, name="churn-model", package="churn_model")
        if serves:
            options = dataclasses.replace(options, serving_module="houses", model_path="models/model.json",
                                          script=("churn-model", None)[number % 4 == 3])
        key = f"v{number:02d}-{'c' if container else ''}{'d' if deploy else ''}{'m' if monitor else ''}" \
              f"{'s' if serves else ''}"
        result.append(Variant(key, options))
    return result


VARIANTS = variants()


def test_the_variants_cover_every_value_of_every_choice() -> None:
    seen = {(v.options.container, v.options.deploy, v.options.monitor, v.options.index, v.options.image)
            for v in VARIANTS}
    assert len(seen) == 2 * 2 * 2 * len(INDEXES) * len(IMAGES)
    switches = {(v.options.container, v.options.deploy, v.options.monitor, v.options.serves) for v in VARIANTS}
    assert len(switches) == 2 * 2 * 2 * 2
    assert {v.options.kubernetes for v in VARIANTS} == {True, False}
    assert {v.options.smoke_record is None for v in VARIANTS if v.options.serves} == {True, False}
    assert {v.options.deployment_tier for v in VARIANTS} == set(TIERS)


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci",
         "--data-transform", "gitlab-ci", *map(str, files)],
        capture_output=True, text=True,
    )


def test_every_gitlab_variant_validates_against_gitlabs_schema(tmp_path: Path) -> None:
    files = []
    for variant in VARIANTS:
        path = tmp_path / f"{variant.key}.gitlab-ci.yml"
        path.write_text(ci.render_pipeline("gitlab", variant.options))
        files.append(path)
    done = check_jsonschema(*files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_does_catch_mistakes(tmp_path: Path) -> None:
    text = ci.render_pipeline("gitlab", VARIANTS[0].options)
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("coverage_format: cobertura", "coverage_format: lcov"))
    done = check_jsonschema(broken)
    assert done.returncode != 0 and "coverage_format" in done.stdout


def gitlab_ci_local(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    assert GITLAB_CI_LOCAL is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_", "GCL_", "MLPACK_"))}
    done = subprocess.run([GITLAB_CI_LOCAL, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    return subprocess.CompletedProcess(done.args, done.returncode, ANSI.sub("", done.stdout),
                                       ANSI.sub("", done.stderr))


def git_repository(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (path / name).write_text(content)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def fresh_venv(path: Path) -> Path:
    """A fresh virtualenv with pip, as a python image has; made by uv (a dependency of mlpack), in a
    fraction of the time venv's ensurepip takes."""
    import uv

    env = {**os.environ, "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(path.parent / "uv-cache"))}
    subprocess.run([uv.find_uv_bin(), "venv", "--quiet", "--seed", "--python", sys.executable, str(path)],
                   check=True, capture_output=True, text=True, env=env)
    return path


def listed_jobs(done: subprocess.CompletedProcess[str]) -> set[str]:
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("name "))
    return {line.split()[0] for line in lines[start + 1:] if line.strip()}


TAG_PIPELINE = ("--variable", "CI_COMMIT_TAG=v1.0.0", "--variable", "MLPACK_WEBHOOK_URL=http://127.0.0.1:9/")


@NEEDS_GITLAB_CI_LOCAL
def test_every_gitlab_variant_passes_gitlab_ci_local_list(tmp_path: Path) -> None:
    # rendered here, in this thread: the templates' YAML emitter is one shared object, not thread-safe
    rendered = {variant.key: ci.render_pipeline("gitlab", variant.options) for variant in VARIANTS}

    def check(variant: Variant) -> str | None:
        repo = git_repository(tmp_path / variant.key, {".gitlab-ci.yml": rendered[variant.key]})
        problems = []
        tagged = gitlab_ci_local(repo, "--list", *TAG_PIPELINE)
        if tagged.returncode != 0 or listed_jobs(tagged) != variant.jobs:
            problems.append(f"tag pipeline: {tagged.stdout}{tagged.stderr}")
        if variant.options.index == "gitlab" and variant.options.image is None:  # one per switch setting
            branch = gitlab_ci_local(repo, "--list")
            if branch.returncode != 0 or listed_jobs(branch) != {"lint", "test", "audit", "build"}:
                problems.append(f"branch pipeline: {branch.stdout}{branch.stderr}")
        return f"{variant.key}: {problems}" if problems else None

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [message for message in pool.map(check, VARIANTS) if message]
    assert not failures, "\n".join(failures)


@NEEDS_GITLAB_CI_LOCAL
def test_gitlab_ci_local_list_does_catch_bad_needs(tmp_path: Path) -> None:
    text = ci.render_pipeline("gitlab", VARIANTS[0].options).replace("needs: [container]", "needs: [image]")
    done = gitlab_ci_local(git_repository(tmp_path / "bad", {".gitlab-ci.yml": text}), "--list", *TAG_PIPELINE)
    assert done.returncode != 0


# -- the jobs of a sample project, run for real --------------------------------------------------


def _convert_is_available() -> bool:
    from mlpack_cli.cli import app

    return any((c.name or getattr(c.callback, "__name__", "")) == "convert" for c in app.registered_commands)


@dataclass
class JobRun:
    project: Path
    result: subprocess.CompletedProcess[str]
    convert_checked: bool


@pytest.fixture(scope="module")
def job_run(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[JobRun]:
    """`mlpack init --example` + `mlpack ci gitlab`, then lint, test and build run by gitlab-ci-local."""
    if GITLAB_CI_LOCAL is None or shutil.which("rsync") is None:
        pytest.skip("gitlab-ci-local (`npm install -g gitlab-ci-local@4.60`) and rsync (`apt-get install -y "
                    "rsync`) are needed to run the jobs; .ci/run installs both")
    base = tmp_path_factory.mktemp("jobs")
    project = base / "sample-model"
    init_project(InitSettings(path=project, example=True, ci="none"))
    convert = _convert_is_available()
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(f'\n[tool.mlpack.ci]\nconvert-check = {"true" if convert else "false"}\n')
    if convert:  # the test job installs this checkout's mlpack to run `mlpack convert --check`
        wheel: Path = request.getfixturevalue("mlpack_wheel")
        with (project / "pyproject.toml").open("a") as handle:
            handle.write(f'mlpack-requirement = "{wheel.as_posix()}"\n')
        subprocess.run([sys.executable, "-m", "mlpack_cli", "convert"], cwd=project, check=True,
                       capture_output=True, text=True)
    ci.write_ci(project, "gitlab")
    subprocess.run(["git", "init", "-q", str(project)], check=True)

    runner = base / "runner-venv"  # the shell executor's `python`: a fresh environment, as in an image
    fresh_venv(runner)
    home = base / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_", "GCL_", "MLPACK_", "PIP_"))}
    env.update(HOME=str(home), PATH=f"{runner / 'bin'}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(runner))
    assert GITLAB_CI_LOCAL is not None
    done = subprocess.run(
        [GITLAB_CI_LOCAL, "--force-shell-executor", "lint", "test", "build"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )
    yield JobRun(project, subprocess.CompletedProcess(done.args, done.returncode, ANSI.sub("", done.stdout),
                                                      ANSI.sub("", done.stderr)), convert)


@NEEDS_RSYNC
@NEEDS_GITLAB_CI_LOCAL
def test_lint_test_and_build_jobs_pass(job_run: JobRun) -> None:
    output = job_run.result.stdout + job_run.result.stderr
    assert job_run.result.returncode == 0, output[-6000:]
    for job in ("lint", "test", "build"):
        assert re.search(rf"PASS\s+{job}\b", output), output[-6000:]
    assert ("mlpack convert --check" in output) == job_run.convert_checked


@NEEDS_RSYNC
@NEEDS_GITLAB_CI_LOCAL
def test_test_job_leaves_a_junit_report_and_coverage(job_run: JobRun) -> None:
    suite = ET.parse(job_run.project / "report.xml").getroot()
    suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
    assert suite is not None and int(suite.get("tests", "0")) >= 2 and suite.get("failures") == "0"
    coverage = ET.parse(job_run.project / "coverage.xml").getroot()
    assert coverage.tag == "coverage" and coverage.get("line-rate") is not None
    assert re.search(r"PASS\s+test\s+\d+(\.\d+)?% coverage", job_run.result.stdout)


@NEEDS_RSYNC
@NEEDS_GITLAB_CI_LOCAL
def test_build_job_leaves_sdist_and_wheel(job_run: JobRun) -> None:
    names = sorted(p.name for p in (job_run.project / "dist").iterdir())
    assert sorted(n.rsplit(".", 1)[-1] for n in names) == ["gz", "whl"], names


# -- the Dockerfile ----------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", text)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile_structure() -> None:
    for variant in VARIANTS:
        if not variant.options.container:
            continue
        steps = dockerfile_instructions(ci.generated_files(["gitlab"], variant.options)["Dockerfile"])
        kinds = [kind for kind, _ in steps]
        assert kinds[:2] == ["ARG", "FROM"] and steps[1][1] == "${PYTHON_IMAGE}"
        assert steps[0][1] == f"PYTHON_IMAGE={variant.options.python_image}"
        model = [f"{variant.options.model_path}* {ci.MODEL_DIR}/"] if variant.options.serves else []
        assert [arg for kind, arg in steps if kind == "COPY"] == [f"dist/*.whl {ci.WHEEL_DIR}/", *model]
        user = kinds.index("USER")
        assert kinds.index("COPY") < max(i for i, k in enumerate(kinds) if k == "RUN") < user
        assert steps[user][1].split(":")[0] not in ("0", "root")
        health = dict(steps)["HEALTHCHECK"]
        assert health.startswith("--interval=") and json.loads(health.split(" CMD ", 1)[1])[0] == "python"
        command = json.loads(dict(steps)["CMD"])
        if variant.options.serves:  # the service, on every interface of the container, port 8080
            assert dict(steps)["EXPOSE"] == "8080" and command == variant.options.serve_command()
            assert command[command.index("--host") + 1:] == ["0.0.0.0", "--port", "8080"]
        else:
            assert command[0] == "python"


@NEEDS_RSYNC
@NEEDS_GITLAB_CI_LOCAL
def test_dockerfile_install_command_installs_the_built_wheel(
    job_run: JobRun, make_venv: Callable[[str], Path], tmp_path: Path
) -> None:
    """Do what the image build does, in a fresh venv: COPY dist/*.whl, RUN the install, then the checks."""
    project = job_run.project
    steps = dockerfile_instructions((project / "Dockerfile").read_text())
    source, destination = next(arg for kind, arg in steps if kind == "COPY").split()
    wheels = tmp_path / "wheel-dir"
    wheels.mkdir()
    for wheel in project.glob(source):
        shutil.copy2(wheel, wheels)
    assert [p.suffix for p in wheels.iterdir()] == [".whl"]
    install = next(arg for kind, arg in steps if kind == "RUN" and "pip install" in arg)
    python = make_venv("image")
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
    local = install.replace(destination.rstrip("/"), shlex.quote(str(wheels)))
    done = subprocess.run(["sh", "-c", local], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not wheels.exists()  # the `&& rm -rf` part ran too

    cmd = json.loads(dict(steps)["CMD"])
    # The example project serves its model: the CMD starts the service (tests/integration/
    # test_container_real.py runs it, and the HEALTHCHECK against it, in the built image). Here: the
    # installed wheel has the console script and its serve command, with the options the CMD gives.
    assert "serve" in cmd
    shown = subprocess.run([*cmd, "--help"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert all(option in shown.stdout for option in ("--model", "--host", "--port"))


# -- Jenkinsfile -------------------------------------------------------------------------------


def groovy_parser() -> Any:
    tree_sitter = pytest.importorskip("tree_sitter")
    groovy = pytest.importorskip("tree_sitter_groovy")
    return tree_sitter.Parser(tree_sitter.Language(groovy.language()))


def calls(node: Any) -> list[tuple[str, Any]]:
    """(name, call node) of the calls made directly in a closure or program body."""
    found = []
    for child in node.named_children:
        call = child.named_children[0] if child.type == "expression_statement" and child.named_children else child
        if call.type in ("method_invocation", "juxt_function_call") and call.named_children[0].type == "identifier":
            found.append((call.named_children[0].text.decode(), call))
    return found


def closure(call: Any) -> Any:
    return next(child for child in call.named_children if child.type == "closure")


def block(call: Any, name: str) -> Any | None:
    return next((closure(c) for n, c in calls(closure(call)) if n == name), None)


def descendants(node: Any) -> Iterator[Any]:
    for child in node.named_children:
        yield child
        yield from descendants(child)


def walk_jenkinsfile(text: str) -> dict[str, Any]:
    tree = groovy_parser().parse(text.encode())
    assert not tree.root_node.has_error, text
    ((name, pipeline),) = calls(tree.root_node)
    assert name == "pipeline"
    assert block(pipeline, "agent") is not None
    stages = block(pipeline, "stages")
    assert stages is not None
    result = {}
    for name, stage in calls(stages):
        assert name == "stage"
        title = stage.named_children[1].named_children[0].text.decode().strip("'")
        steps = block(stage, "steps")
        assert steps is not None and calls(steps), f"stage {title} has no steps"
        result[title] = stage
    return result


def test_every_jenkinsfile_variant_is_a_declarative_pipeline() -> None:
    for variant in VARIANTS:
        text = ci.render_pipeline("jenkins", variant.options)
        stages = walk_jenkinsfile(text)
        expected = ["lint", "test", "audit", "build"] + (["train"] if variant.options.serves else []) + ["publish"]
        expected += ["container", "smoke"] if variant.options.container else []
        expected += (["deploy"] if variant.options.deploy else []) + (["monitor"] if variant.options.monitor else [])
        assert list(stages) == expected, variant.key
        for title in ("train", "publish", "container", "deploy", "monitor"):
            if title in stages:
                when = block(stages[title], "when")
                assert when is not None and any(n.text == b"buildingTag" for n in descendants(when)), title
        for node in descendants(groovy_parser().parse(text.encode()).root_node):
            if node.type in ("method_invocation", "juxt_function_call") and node.named_children[0].text == b"sh":
                (argument,) = node.named_children[1].named_children
                single = argument.type == "character_literal" or argument.text.startswith(b"'''")
                assert single, f"{variant.key}: sh step is not single-quoted: {argument.text!r}"


def test_jenkinsfile_reports_archives_and_keeps_credentials_out_of_groovy() -> None:
    text = ci.render_pipeline("jenkins", VARIANTS[0].options)
    stages = walk_jenkinsfile(text)
    names = {title: {n for n, _ in calls(block(stage, "steps"))} for title, stage in stages.items()}
    assert "archiveArtifacts" in names["build"] and "archiveArtifacts 'dist/*'" in stages["build"].text.decode()
    assert "junit 'report.xml'" in stages["test"].text.decode()
    assert "withCredentials" in names["publish"] and "withCredentials" in names["container"]
    publish = stages["publish"].text.decode()
    assert "usernameVariable: 'TWINE_USERNAME', passwordVariable: 'TWINE_PASSWORD'" in publish
    # Groovy interpolates only double-quoted strings: those may name non-secret values and nothing else.
    gstrings = [node.text.decode() for node in descendants(groovy_parser().parse(text.encode()).root_node)
                if node.type == "string_literal" and node.text.startswith(b'"')]
    interpolated = {m.group(1) for s in gstrings for m in re.finditer(r"\$\{?([\w.]+)", s)}
    assert gstrings and interpolated <= {"env.WORKSPACE", "env.TAG_NAME", "env.MLPACK_IMAGE"}


def test_hostile_values_stay_literal_in_groovy() -> None:
    script = "echo \"it's $HOME\" '\\' ${x}"
    options = ci.CiOptions.from_tool({"deploy-script": [script]}, name="churn-model", package="churn_model")
    stages = walk_jenkinsfile(ci.render_pipeline("jenkins", options))
    (sh,) = [c for n, c in calls(block(stages["deploy"], "steps")) if n == "sh"]
    literal = sh.named_children[1].named_children[0].text.decode()
    assert literal.startswith("'") and literal[1:-1].replace("\\\\", "\0").replace("\\'", "'") \
        .replace("\0", "\\") == script


# -- our own pipeline --------------------------------------------------------------------------


def own_pipeline() -> str:
    """What `mlpack ci gitlab` renders from this repository's pyproject.toml."""
    document = read_pyproject(REPO_ROOT / "pyproject.toml").unwrap()
    table = document["tool"]["mlpack"]
    options = ci.CiOptions.from_tool(table.get("ci", {}), name=document["project"]["name"], package=table["package"])
    return ci.generated_files(["gitlab"], options)[".gitlab-ci.yml"]


def test_our_gitlab_ci_is_what_mlpack_ci_renders_and_is_valid(tmp_path: Path) -> None:
    committed = REPO_ROOT / ".gitlab-ci.yml"
    assert committed.read_text() == own_pipeline(), "run `mlpack ci gitlab` and commit .gitlab-ci.yml"
    done = check_jsonschema(committed)
    assert done.returncode == 0, done.stdout
    if GITLAB_CI_LOCAL is None:
        pytest.skip("gitlab-ci-local is not installed: `npm install -g gitlab-ci-local@4.60`")
    repo = git_repository(tmp_path / "own", {".gitlab-ci.yml": committed.read_text()})
    assert listed_jobs(gitlab_ci_local(repo, "--list")) == {"lint", "test", "audit", "build"}
    tagged = gitlab_ci_local(repo, "--list", *TAG_PIPELINE)
    assert tagged.returncode == 0 and listed_jobs(tagged) == {"lint", "test", "audit", "build", "publish"}


# -- the publish job of a tag pipeline, after `mlpack release` --------------------------------------


@NEEDS_RSYNC
@NEEDS_GITLAB_CI_LOCAL
@pytest.mark.usefixtures("tool_caches")
def test_the_publish_job_skips_the_version_mlpack_release_uploaded(
    tmp_path: Path, package_index: Any, mlpack_wheel: Path, make_git_project: Callable[..., Path],
) -> None:
    """`mlpack release` uploads, then the pushed tag runs `publish`: it must pass without uploading again."""
    from mlpack_cli.commands.build import BuildSettings, build_project
    from mlpack_cli.commands.publish import PublishSettings, publish

    project = make_git_project(tmp_path / "tagpipe", "tagpipe")
    build_project(BuildSettings(root=project))
    publish(PublishSettings(root=project, repository_url=package_index.url, username=package_index.username,
                            password=package_index.password))  # what the release's publish step does
    uploaded = package_index.files()
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(f'\n[tool.mlpack.ci]\nindex = "{package_index.url}"\nmlpack-requirement = "{mlpack_wheel}"\n'
                     "container = false\ndeploy = false\nmonitor = false\n")
    ci.write_ci(project, "gitlab")

    runner = tmp_path / "runner-venv"  # the job's `python`: a fresh environment, as in an image
    fresh_venv(runner)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_", "GCL_", "MLPACK_", "TWINE_"))}
    env.update(PATH=f"{runner / 'bin'}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(runner))
    assert GITLAB_CI_LOCAL is not None
    done = subprocess.run(
        [GITLAB_CI_LOCAL, "--force-shell-executor", "--variable", "CI_COMMIT_TAG=v0.1.0",
         "--variable", f"TWINE_USERNAME={package_index.username}",
         "--variable", f"TWINE_PASSWORD={package_index.password}", "publish"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )
    output = ANSI.sub("", done.stdout + done.stderr)
    assert done.returncode == 0, output[-6000:]
    assert re.search(r"PASS\s+publish\b", output), output[-6000:]
    assert "is already on" in output and "nothing uploaded (--skip-existing)" in output
    assert package_index.files() == uploaded


# -- the audit job, run for real against a vulnerability feed on 127.0.0.1 --------------------------

ADVISORY = "GHSA-jjg7-2v4v-x38h"  # idna's real advisory (CVE-2024-3651): fixed in idna 3.7


@dataclass
class VulnerabilityFeed:
    """An OSV-API stand-in (POST /v1/query) that knows one advisory, for idna before 3.7."""

    url: str
    queried: list[str]


@pytest.fixture
def vulnerability_feed() -> Iterator[VulnerabilityFeed]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from packaging.version import Version

    queried: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name, version = query["package"]["name"], query["version"]
            queried.append(name)
            vulns = [] if name != "idna" or Version(version) >= Version("3.7") else [{
                "id": ADVISORY, "aliases": ["CVE-2024-3651", "PYSEC-2024-60"],
                "summary": "Quadratic complexity in idna.encode",
                "affected": [{"package": {"name": "idna", "ecosystem": "PyPI"},
                              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.7"}]}]}],
            }]
            body = json.dumps({"vulns": vulns} if vulns else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield VulnerabilityFeed(f"http://127.0.0.1:{server.server_address[1]}/v1/query", queried)
    finally:
        server.shutdown()
        server.server_close()


AUDITED_PROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "audited"
version = "0.1.0"
dependencies = ["idna==3.6"]

[tool.mlpack]
package = "audited"
"""


@NEEDS_RSYNC
@NEEDS_GITLAB_CI_LOCAL
@pytest.mark.usefixtures("tool_caches")
def test_the_audit_job_fails_on_a_known_vulnerability_until_it_is_accepted(
    tmp_path: Path, vulnerability_feed: VulnerabilityFeed
) -> None:
    project = tmp_path / "audited"
    project.mkdir()
    (project / "pyproject.toml").write_text(AUDITED_PROJECT)
    ci.write_ci(project, "both")
    subprocess.run(["git", "init", "-q", str(project)], check=True)

    runner = tmp_path / "runner-venv"  # the job's `python`: a fresh environment, as in an image
    fresh_venv(runner)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_", "GCL_", "MLPACK_"))}
    (tmp_path / "home").mkdir()
    env.update(HOME=str(tmp_path / "home"), PATH=f"{runner / 'bin'}{os.pathsep}{env['PATH']}",
               VIRTUAL_ENV=str(runner))
    feed = ("--variable", "PIP_AUDIT_VULNERABILITY_SERVICE=osv",
            "--variable", f"PIP_AUDIT_OSV_URL={vulnerability_feed.url}")

    def audit_job() -> tuple[int, str]:
        assert GITLAB_CI_LOCAL is not None
        done = subprocess.run([GITLAB_CI_LOCAL, "--force-shell-executor", *feed, "audit"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=600)
        log = project / ".gitlab-ci-local" / "output" / "audit.log"  # the job's full log
        return done.returncode, ANSI.sub("", done.stdout + done.stderr + (log.read_text() if log.exists() else ""))

    code, output = audit_job()
    assert code != 0 and re.search(r"FAIL\s+audit\b", output), output[-6000:]
    assert re.search(r"idna\s+3\.6\s+(GHSA-jjg7-2v4v-x38h|PYSEC-2024-60)\s+3\.7", output), output[-3000:]
    assert "idna" in vulnerability_feed.queried, "the declared dependency was resolved and looked up"

    # Jenkins runs the same audit in the workspace's .venv: its command, taken from the Jenkinsfile.
    jenkins = (project / "Jenkinsfile").read_text()
    stage = jenkins[jenkins.index("stage('audit')"):jenkins.index("stage('build')")]
    commands = [shlex.split(line.strip()[3:])[0] for line in stage.splitlines() if line.strip().startswith("sh '")]
    assert len(commands) == 2
    workspace_env = {**env, "PIP_AUDIT_VULNERABILITY_SERVICE": "osv", "PIP_AUDIT_OSV_URL": vulnerability_feed.url}
    fresh_venv(project / ".venv")
    done = subprocess.run(["sh", "-c", " && ".join(commands)], cwd=project, env=workspace_env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode != 0 and "PYSEC-2024-60" in done.stdout, done.stdout + done.stderr[-3000:]

    with (project / "pyproject.toml").open("a") as handle:
        handle.write(f'\n[tool.mlpack.ci]\naudit-ignore = ["{ADVISORY}"]\n')
    ci.write_ci(project, "both", force=True)
    code, output = audit_job()
    assert code == 0 and re.search(r"PASS\s+audit\b", output), output[-6000:]
    accepted = [line.strip()[3:] for line in (project / "Jenkinsfile").read_text().splitlines()
                if "pip-audit --strict" in line]
    done = subprocess.run(["sh", "-c", shlex.split(accepted[0])[0]], cwd=project, env=workspace_env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
