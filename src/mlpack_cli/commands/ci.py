"""Render CI pipelines (GitLab CI, Jenkins) and the container files they build from ``templates/ci/``.

``mlpack init --ci ...`` and ``mlpack ci ...`` share this one code path: settings come from the
``[tool.mlpack.ci]`` table (with CLI options laid over it) and are validated here, once, before
any value reaches a template. Values that cannot be made safe for YAML, Groovy, a shell line or a
Dockerfile (control characters, credentials in a URL, tokens) are rejected rather than escaped.
The shapes of the values come from the ``[tool.mlpack]`` schema (:mod:`mlpack_cli.tool_schema`).

The jobs hold credentials, so what they install is pinned: mlpack to the version that wrote the
file, every other tool to :data:`PINNED_TOOLS`; images may be pinned by digest. An ``audit`` job
runs pip-audit on the project's declared dependencies in every pipeline.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mlpack_cli.entrypoint import hashed, plan_support_file
from mlpack_cli.errors import FileConflict, InvalidInput
from mlpack_cli.files import Action, FilePlan
from mlpack_cli.project_names import is_valid_project_name
from mlpack_cli.redaction import redact_url, url_credentials
from mlpack_cli.serving import is_safe_model_path
from mlpack_cli.templating import render

CI_FILES = {"gitlab": ".gitlab-ci.yml", "jenkins": "Jenkinsfile"}
CI_KINDS = ("gitlab", "jenkins", "both")
CONTAINER_FILES = {"Dockerfile": "ci/Dockerfile.j2", ".dockerignore": "ci/dockerignore.j2"}
MONITORING_TEMPLATE = "module/monitoring.py.j2"
MONITORING_PURPOSE = "Written by mlpack: this package's monitoring hooks (docs/monitoring.md)."
# a monitoring.py without mlpack's header: an older mlpack's (before the header) edited, or the user's own
MONITORING_KEPT = "no mlpack content hash (edited, or the user's own); kept: delete it to get the current one"

DEFAULT_PYTHON_IMAGE = "python:3.11-slim"
BUILDKIT_IMAGE = "moby/buildkit:rootless"
KUBECTL_IMAGE = "bitnami/kubectl:1.31"
GITLAB_REGISTRY_IMAGE = "$CI_REGISTRY_IMAGE"
DEPLOYMENT_TIERS = ("production", "staging", "testing", "development", "other")
NAMED_INDEXES = {"pypi": "https://upload.pypi.org/legacy/", "testpypi": "https://test.pypi.org/legacy/"}

# Where the image build puts the wheel, and the one command that installs it (tests run it too).
WHEEL_DIR = "/tmp/dist"
WHEEL_INSTALL_COMMAND = f"python -m pip install --no-cache-dir {WHEEL_DIR}/*.whl"

# The serving image: where the model files go, the port its CMD serves on, what the train job keeps.
MODEL_DIR = "/home/app/model"
SERVE_PORT = 8080
TRAIN_OUTPUT = "train-output.txt"

# The train job's second step: the JSON result `<project> run` printed last (the pipeline's own
# output may come before it) becomes metrics.json, its numbers metrics.txt, and it is shown in the log.
METRICS_CODE = """\
import json, math, sys
text = open("train-output.txt", encoding="utf-8").read()
result = None
for start in [0] + [i + 1 for i, c in enumerate(text) if c == "\\n"]:
    if text[start:start + 1] in ("{", "["):
        try:
            result = json.loads(text[start:])
            break
        except ValueError:
            pass
if result is None:
    sys.exit("the pipeline printed no JSON result (train-output.txt has its output)")
with open("metrics.json", "w", encoding="utf-8") as handle:
    json.dump(result, handle, indent=2, sort_keys=True)
def numbers(value, prefix=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from numbers(item, f"{prefix}{key}.")
    elif prefix and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        yield "_".join(prefix[:-1].split()), value
with open("metrics.txt", "w", encoding="utf-8") as handle:
    handle.writelines(f"{name} {value}\\n" for name, value in numbers(result))
print("metrics:", json.dumps(result, indent=2, sort_keys=True))
"""

# The smoke job: start the image's service, wait for /healthz, post MLPACK_SMOKE_RECORD (when set)
# to /predict and check that one prediction per record comes back. Standard library only.
SMOKE_CODE = """\
import json, os, subprocess, sys, time, urllib.request
url = "http://127.0.0.1:" + sys.argv[1]
server = subprocess.Popen(sys.argv[2:])
try:
    for _ in range(120):
        if server.poll() is not None:
            sys.exit(f"the service exited with code {server.returncode}")
        try:
            print("healthz:", urllib.request.urlopen(url + "/healthz", timeout=5).read().decode())
            break
        except OSError:
            time.sleep(0.5)
    else:
        sys.exit("the service did not answer /healthz within 60 s")
    record = os.environ.get("MLPACK_SMOKE_RECORD")
    if record:
        records = [json.loads(record)]
        request = urllib.request.Request(url + "/predict", data=json.dumps({"records": records}).encode(),
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
        predictions = answer.get("predictions")
        if not isinstance(predictions, list) or len(predictions) != len(records):
            sys.exit(f"no prediction came back: {answer!r}")
        print("prediction:", json.dumps(predictions[0]))
finally:
    server.terminate()
    server.wait(timeout=30)
"""

# The tools the generated jobs install are pinned in the templates to these versions (tests keep the
# two in step); mlpack itself is pinned to the version that wrote the file (`mlpack-requirement`).
PINNED_TOOLS = {"flake8": "7.5.0", "pytest-cov": "7.1.0", "build": "1.6.1", "twine": "7.0.0", "pip-audit": "2.10.1"}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Prefixes of real credentials (GitLab, PyPI, GitHub tokens): such a value never belongs in a CI file.
_TOKEN = re.compile(r"\b(glpat-|gldt-|glcbt-|glptt-|pypi-AgE|ghp_|github_pat_)")
_URL = re.compile(r"^https?://[^\s'\"\\`<>]+$")


def default_mlpack_requirement() -> str:
    """The mlpack that writes a pipeline is the one its jobs install: ``mlpack-cli==<this version>``."""
    from mlpack_cli import __version__

    return f"mlpack-cli=={__version__}"


@dataclass(frozen=True)
class CiOptions:
    """Every setting the CI templates read; built from ``[tool.mlpack.ci]`` by :meth:`from_tool`."""

    name: str
    package: str
    python_image: str = DEFAULT_PYTHON_IMAGE
    index: str = "gitlab"  # gitlab | pypi | testpypi | an upload URL
    image: str | None = None  # container image repository; GitLab default $CI_REGISTRY_IMAGE
    container: bool = True
    deploy: bool = True
    monitor: bool = True
    convert_check: bool = True
    environment: str = "production"
    environment_url: str | None = None
    deployment_tier: str = "production"
    deploy_script: tuple[str, ...] = ()
    mlpack_requirement: str = field(default_factory=default_mlpack_requirement)
    buildkit_image: str = BUILDKIT_IMAGE
    audit_ignore: tuple[str, ...] = ()  # advisory ids the audit job accepts
    jenkins_index_credentials: str = "mlpack-index"
    jenkins_registry_credentials: str = "mlpack-registry"
    jenkins_kubeconfig_credentials: str = "mlpack-kubeconfig"
    kubectl_image: str = KUBECTL_IMAGE
    serve: str | None = None  # [tool.mlpack.ci] serve: which module, when several can serve
    smoke_record: str | None = None  # JSON object the smoke job posts to /predict
    # Found in the project (never set in [tool.mlpack.ci]): the module the image serves, its model
    # path (relative to the project root) and the console script that runs the pipelines.
    serving_module: str | None = field(default=None, metadata={"internal": True})
    model_path: str | None = field(default=None, metadata={"internal": True})
    script: str | None = field(default=None, metadata={"internal": True})

    @classmethod
    def from_tool(cls, table: Mapping[str, Any], *, name: str, package: str) -> CiOptions:
        """Validate a ``[tool.mlpack.ci]`` table (keys spelled with dashes) into options."""
        data = table.unwrap() if hasattr(table, "unwrap") else dict(table)
        known = {f.name.replace("_", "-"): f for f in fields(cls)
                 if f.name not in ("name", "package") and not f.metadata.get("internal")}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidInput(
                f"[tool.mlpack.ci] has unknown key(s): {', '.join(unknown)}",
                hint=f"Known keys: {', '.join(sorted(known))} (docs/ci.md).",
            )
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "deploy-script":
                value = [value] if isinstance(value, str) else value
                if not isinstance(value, list) or not value:
                    raise InvalidInput(
                        f"{_where(key)} must be a list of shell commands, not {value!r}",
                        hint='Write e.g. deploy-script = ["kubectl apply -f k8s/"] (one string per command).',
                    )
                value = tuple(value)
            if key == "audit-ignore":
                if not isinstance(value, list):
                    raise InvalidInput(
                        f"{_where(key)} must be a list of advisory ids, not {value!r}",
                        hint='Write e.g. audit-ignore = ["GHSA-xxxx-xxxx-xxxx"] (one string per advisory).',
                    )
                value = tuple(value)
            if key == "smoke-record" and value is not None:
                value = _record_json(value)
            if value is not None:
                values[known[key].name] = value
        return cls(name=name, package=package, **values)

    def __post_init__(self) -> None:
        """Validate every value, however the options were made, before any template sees them."""
        # Name and package also appear unquoted (comments, `import pkg`): only these shapes are safe.
        if not is_valid_project_name(self.name) or not self.package.isidentifier():
            raise InvalidInput(f"cannot render CI files for project {self.name!r} / package {self.package!r}",
                               hint="Use a PEP 508 project name and a Python identifier as the package.")
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name not in ("name", "package") and not item.metadata.get("internal") and value is not None:
                _check(item.name.replace("_", "-"), value)
        if self.serving_module is not None and (
            not self.serving_module.isidentifier() or self.model_path is None
            or not is_safe_model_path(self.model_path)
            or (self.script is not None and not is_valid_project_name(self.script))
        ):
            raise InvalidInput(f"cannot ship the serving module {self.serving_module!r} "
                               f"(model {self.model_path!r}, script {self.script!r})",
                               hint="MODEL_PATH must be a plain relative path (letters, digits, . _ - /).")
        if self.index not in ("gitlab", *NAMED_INDEXES) and not _URL.match(self.index):
            raise InvalidInput(
                f"{_where('index')} {self.index!r} is neither gitlab, pypi, testpypi nor an http(s) URL",
                hint="For another index give its upload URL, e.g. https://nexus.example.org/repository/pypi/.",
            )
        if self.deployment_tier not in DEPLOYMENT_TIERS:
            raise InvalidInput(
                f"{_where('deployment-tier')} {self.deployment_tier!r} is not one GitLab knows",
                hint=f"Use one of: {', '.join(DEPLOYMENT_TIERS)}.",
            )

    # -- values the templates read -------------------------------------------------------------

    @property
    def index_url(self) -> str | None:
        """The upload URL written into the file; None for GitLab's own registry (derived per platform)."""
        return NAMED_INDEXES.get(self.index, None if self.index == "gitlab" else self.index)

    @property
    def gitlab_image(self) -> str:
        return self.image or GITLAB_REGISTRY_IMAGE

    @property
    def registry(self) -> str | None:
        """Registry host to log in to for a configured image; None means GitLab's ($CI_REGISTRY)."""
        if not self.image:
            return None
        first = self.image.split("/", 1)[0]
        if "/" in self.image and ("." in first or ":" in first or first == "localhost"):
            return first
        return "https://index.docker.io/v1/"

    @property
    def deploy_commands(self) -> tuple[str, ...]:
        """The configured deploy-script; else kubectl applying deploy/ when the image serves; else a note."""
        if self.deploy_script:
            return self.deploy_script
        if self.serves and self.container:
            from mlpack_cli.manifests import deploy_commands

            return deploy_commands(self.name, "MLPACK_IMAGE", "MLPACK_TAG")
        return ('echo "Deploying $MLPACK_PACKAGE $MLPACK_TAG to $MLPACK_ENVIRONMENT"',)

    @property
    def kubernetes(self) -> bool:
        """Whether the deploy job applies the generated manifests of deploy/ with kubectl."""
        return self.deploy and self.serves and self.container and not self.deploy_script

    # -- serving: the train job, the image's CMD, the smoke check ----------------------------------

    @property
    def serves(self) -> bool:
        return self.serving_module is not None

    @property
    def model_file(self) -> str:
        return str(self.model_path).rsplit("/", 1)[-1]

    @property
    def model_glob(self) -> str:
        """Every file serving needs: they start with the model's file name (``COPY <MODEL_PATH>*``)."""
        return f"{self.model_path}*"

    def pipelines_command(self, prefix: str = "") -> list[str]:
        """The project's console script (``<project> run``/``serve``), or its module when none is declared."""
        if self.script:
            return [f"{prefix}{self.script}"]
        return [f"{prefix}python", "-m", f"{self.package}.pipelines"]

    def train_command(self, prefix: str = "") -> str:
        """``<project> run <module>`` from the project root, its output kept (and shown when it fails)."""
        run = shlex.join([*self.pipelines_command(prefix), "run", str(self.serving_module)])
        return f"{run} > {TRAIN_OUTPUT} || {{ cat {TRAIN_OUTPUT}; exit 1; }}"

    def metrics_command(self, prefix: str = "") -> str:
        return shlex.join([f"{prefix}python", "-c", METRICS_CODE])

    def serve_command(self, host: str = "0.0.0.0", port: int = SERVE_PORT) -> list[str]:
        """What the image's CMD runs: the service on the model the image holds."""
        return [*self.pipelines_command(), "serve", str(self.serving_module), "--model",
                f"{MODEL_DIR}/{self.model_file}", "--host", host, "--port", str(port)]

    @property
    def serve_exec_form(self) -> str:
        return json.dumps(self.serve_command())

    @property
    def healthcheck_exec_form(self) -> str:
        return self.exec_form("import urllib.request; "
                              f"urllib.request.urlopen('http://127.0.0.1:{SERVE_PORT}/healthz', timeout=5)")

    @property
    def serving_install_command(self) -> str:
        """The image's install: the wheel with its ``serve`` extra (the ASGI stack)."""
        return f'python -m pip install --no-cache-dir "$(ls {WHEEL_DIR}/*.whl)[serve]"'

    @property
    def gitlab_environment_url(self) -> str:
        return self.environment_url or "$CI_PROJECT_URL/-/packages"

    def audit_command(self, prefix: str = "") -> str:
        """pip-audit of the project's declared dependencies; fails on any advisory not accepted."""
        ignored = "".join(f" --ignore-vuln {shlex.quote(advisory)}" for advisory in self.audit_ignore)
        return f"{prefix}pip-audit --strict --progress-spinner off --desc on{ignored} ."

    @property
    def smoke_command(self) -> str:
        """Without a serving module: the package imports. With one: the service answers (SMOKE_CODE)."""
        if not self.serves:
            return f"python -c 'import {self.package}; print({self.package}.__version__)'"
        port = str(SERVE_PORT)
        return shlex.join(["python", "-c", SMOKE_CODE, port, *self.serve_command("127.0.0.1", SERVE_PORT)])

    def exec_form(self, code: str) -> str:
        """A Dockerfile exec-form array (JSON) running ``python -c code``."""
        return json.dumps(["python", "-c", code])


# How each setting is checked, by its key (as spelled in [tool.mlpack.ci]).
CLI_KEYS = {"python-image", "index", "image", "environment", "environment-url", "deployment-tier",
            "container", "deploy", "monitor"}  # settings `mlpack ci` also takes as options
_BOOL_KEYS = {"container", "deploy", "monitor", "convert-check"}
_LIST_KEYS = {"deploy-script", "audit-ignore"}


@functools.lru_cache(maxsize=None)
def _pattern(key: str) -> tuple[re.Pattern[str], str] | None:
    """The shape a setting must have, and its description, from the ``[tool.mlpack]`` schema (one truth)."""
    from mlpack_cli.tool_schema import property_schema

    if key == "index":  # a name or a URL: checked in CiOptions with its own message
        return None
    schema = property_schema("ci", key)
    schema = schema.get("items", schema) if key in _LIST_KEYS else schema
    if "pattern" not in schema:
        return None
    return re.compile(schema["pattern"]), schema.get("description", "")


def _record_json(value: Any) -> str:
    """``smoke-record`` (a TOML table of column = value) as the JSON object the smoke job posts."""
    scalars = (str, int, float, bool)
    if (not isinstance(value, Mapping) or not value
            or not all(isinstance(k, str) and isinstance(v, scalars) for k, v in value.items())):
        raise InvalidInput(
            f"[tool.mlpack.ci] smoke-record must be a table of column = value, not {value!r}",
            hint="Write e.g. smoke-record = {size_m2 = 117, rooms = 2}: one record of the training data.",
        )
    try:
        return json.dumps(dict(value), ensure_ascii=False, allow_nan=False, sort_keys=True)
    except ValueError:
        raise InvalidInput("[tool.mlpack.ci] smoke-record holds nan or inf",
                           hint="Give finite numbers: the record is sent as JSON.") from None


def _where(key: str) -> str:
    """Name a setting the way the user gave it: a CLI option or a [tool.mlpack.ci] key."""
    return f"--{key} / [tool.mlpack.ci] {key}" if key in CLI_KEYS else f"[tool.mlpack.ci] {key}"


def _check(key: str, value: Any) -> None:
    """One setting, by its key: booleans are booleans, text is safe and has the expected shape."""
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            option = f"Pass --{key} or --no-{key}, or write" if key in CLI_KEYS else "Write"
            raise InvalidInput(f"{_where(key)} must be true or false, not {value!r}",
                               hint=f"{option} `{key} = true` or `{key} = false` in [tool.mlpack.ci] "
                                    "(a TOML boolean, without quotes).")
        return
    pattern = _pattern(key)
    for text in value if key in _LIST_KEYS else (value,):
        text = _safe_text(key, text)
        if pattern and not pattern[0].match(text):
            raise InvalidInput(f"{_where(key)} {text!r} is not valid", hint=f"Expected {pattern[1]}.")


def _safe_text(key: str, value: Any) -> str:
    """A string that can go into YAML, Groovy and a shell line once escaped; anything else is refused."""
    if not isinstance(value, str) or not value.strip():
        pattern = _pattern(key)
        expected = f" ({pattern[1]})" if pattern else ""
        raise InvalidInput(f"{_where(key)} must be a non-empty string, not {value!r}",
                           hint=f'Write {key} = "..." in [tool.mlpack.ci] as a quoted TOML string{expected}.')
    if _CONTROL.search(value):
        raise InvalidInput(
            f"{_where(key)} contains a control character (newline, tab, ...)",
            hint="Give one line of plain text; for several deploy commands use a list.",
        )
    in_url = url_credentials(value)
    if in_url:
        raise InvalidInput(
            f"{_where(key)} {redact_url(value)!r} appears to contain a credential (a URL with {in_url}); "
            "nothing was written",
            hint=_CREDENTIAL_HINT.get(key, _CREDENTIAL_HINT[""]),
        )
    if _TOKEN.search(value):
        raise InvalidInput(
            f"{_where(key)} appears to contain a credential; nothing was written",
            hint=_CREDENTIAL_HINT[""],
        )
    return value


_CREDENTIAL_HINT = {
    "": "Never write secrets into CI files: keep them in GitLab CI/CD variables or Jenkins credentials "
        "(docs/ci.md lists their names) and refer to them by name ($NAME) in the command.",
    "index": "Give the upload URL without credentials (https://host/path/): the publish job reads them from "
             "the CI/CD variables TWINE_USERNAME and TWINE_PASSWORD on GitLab (masked, protected) and from "
             "the `mlpack-index` username-with-password credentials on Jenkins (docs/ci.md).",
}


def refuse_secrets(options: CiOptions) -> None:
    """Refuse every text setting in which detect-secrets (convert's and build's detector) finds a secret.

    The shape checks above catch credentials in URLs and token prefixes; this catches the rest that a
    detector knows (``export AWS_SECRET_ACCESS_KEY=...``, a JWT in a header, ``API_KEY=<hex>``) in what
    the user gave, before it reaches a generated file. A value that is no secret passes with the
    detector's pragma at the end of its command: ``# pragma: allowlist secret``.
    """
    from mlpack_cli.notebook.secrets import scanner

    found: list[str] = []
    with scanner() as scan:
        for item in fields(options):
            value = getattr(options, item.name)
            texts = value if isinstance(value, tuple) else (value,)
            for number, text in enumerate(texts, 1):
                if not isinstance(text, str):
                    continue
                # a command line as a shell script and as YAML: each file type has its own keyword rules
                hits: dict[str, str] = {}  # masked value -> the first kind found for it
                for suffix in (".sh", ".yml"):
                    for detected in scan(text, suffix):
                        hits.setdefault(detected.masked, detected.kind)
                where = item.name.replace("_", "-") + (f" item {number}" if isinstance(value, tuple) else "")
                found.extend(f"[tool.mlpack.ci] {where}: {kind} {masked}" for masked, kind in hits.items())
    if found:
        raise InvalidInput(
            "a setting holds a secret mlpack will not write into a CI file; nothing was written:\n  "
            + "\n  ".join(found),
            hint=_CREDENTIAL_HINT[""] + " If it is no secret, end the command with `# pragma: allowlist secret`.",
        )


def kinds_for(choice: str) -> list[str]:
    """``gitlab|jenkins|both|none`` -> the pipelines to write."""
    return {"gitlab": ["gitlab"], "jenkins": ["jenkins"], "both": ["gitlab", "jenkins"]}.get(choice, [])


def render_pipeline(kind: str, options: CiOptions) -> str:
    template = {"gitlab": "ci/gitlab-ci.yml.j2", "jenkins": "ci/Jenkinsfile.j2"}[kind]
    return render(template, options=options, buildkit_image=options.buildkit_image)


def render_monitoring(package: str) -> str:
    """The ``<package>/monitoring.py`` hook module (the same file ``init`` and ``convert`` write), under
    the content-hash header that lets mlpack refresh it while it is unedited."""
    return hashed(render(MONITORING_TEMPLATE, package=package), MONITORING_PURPOSE)


def generated_files(kinds: Iterable[str], options: CiOptions) -> dict[str, str]:
    """Relative path -> content of every file the chosen pipelines need (CI files, Dockerfile)."""
    kinds = list(kinds)
    if kinds:
        refuse_secrets(options)
    result = {CI_FILES[kind]: render_pipeline(kind, options) for kind in kinds}
    if kinds and options.container:
        install = options.serving_install_command if options.serves else WHEEL_INSTALL_COMMAND
        for path, template in CONTAINER_FILES.items():
            result[path] = render(template, options=options, wheel_dir=WHEEL_DIR, install_command=install,
                                  model_dir=MODEL_DIR, port=SERVE_PORT)
    if kinds and options.kubernetes:
        from mlpack_cli.manifests import manifest_files, resource_name

        result.update(manifest_files(options.name, options.image or resource_name(options.name)))
    return result


# -- `mlpack ci` -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A generated file that exists with other content: the user's edits, shown as a unified diff."""

    path: str
    diff: str


@dataclass
class CiResult:
    root: Path
    options: CiOptions
    plan: FilePlan
    differences: list[Difference] = field(default_factory=list)
    force: bool = False
    notes: list[str] = field(default_factory=list)  # one line each, for the user: what was left out and why

    def refuse_dropped_edits(self, *, dry_run: bool = False) -> None:
        """Raise :class:`FileConflict` when files the user edited differ and ``--force`` was not given."""
        kept = [d.path for d in self.differences if not self.force]
        if not kept:
            return
        see = ("The diff above shows them" if dry_run
               else "Run again with --dry-run to see the differences")
        raise FileConflict(
            f"{', '.join(kept)} differ(s) from what mlpack would write; your edits would be lost",
            hint=f"{see}; move the change into [tool.mlpack.ci] (docs/ci.md), or pass --force to replace "
                 f"the file. Nothing {'would be' if dry_run else 'was'} written.",
        )


def plan_ci(
    start: Path, choice: str, overrides: Mapping[str, Any] | None = None, *, force: bool = False
) -> CiResult:
    """Work out the files ``mlpack ci`` writes, without writing; ``overrides`` are CLI options."""
    from mlpack_cli.project import load_project

    if choice not in CI_KINDS:
        raise InvalidInput(f"unknown CI kind {choice!r}", hint=f"Use one of: {', '.join(CI_KINDS)}.")
    project = load_project(start)
    table = dict(project.tool.get("ci", {}))
    table.update({key: value for key, value in (overrides or {}).items() if value is not None})
    options = CiOptions.from_tool(table, name=project.name, package=project.package)
    options, notes = _with_serving(options, project)

    plan = FilePlan(project.root)
    result = CiResult(project.root, options, plan, force=force, notes=notes)
    for relpath, content in generated_files(kinds_for(choice), options).items():
        entry = plan.file(relpath, content, force=force,
                          skip_note="edited since it was generated: nothing is written (exit 5) without --force")
        if entry.action is Action.SKIPPED or entry.action is Action.REPLACED:
            result.differences.append(Difference(relpath, _diff(project.root / relpath, content)))
    monitoring = project.package_dir / "monitoring.py"
    if options.monitor and project.package_dir.is_dir():
        # The monitor job runs this module's `notify`: refreshed while unedited, kept once edited (even with --force)
        plan_support_file(plan, str(monitoring.relative_to(project.root)), render_monitoring(project.package),
                          MONITORING_KEPT)
    return result


def _with_serving(options: CiOptions, project: Any) -> tuple[CiOptions, list[str]]:
    """The options with the serving module the project has (train job, serving image, manifests), and
    a note saying why, when the pipeline ships no service."""
    import dataclasses

    from mlpack_cli import serving
    from mlpack_cli.project import read_pyproject

    found = serving.discover(project.package_dir)
    module = serving.choose(found, options.serve)
    if module is None:
        why = "; ".join(f"{s.name}: {s.reason}" for s in found.skipped) or (
            f"no pipeline module in src/{project.package}/ defines MODEL_PATH, load_model() and predict()")
        return options, [f"No serving module ({why}): the image prints the package version and there is "
                         "no train job or deploy/ manifests."]
    script = serving.console_script(read_pyproject(project.pyproject).unwrap(), project.package)
    notes = []
    record = options.smoke_record
    if record is None:
        example = serving.example_record(project.root)
        record = _record_json(example) if example else None
        if record is None:
            notes.append(f"No smoke-record in [tool.mlpack.ci] and no data/*.csv: the smoke job checks "
                         f"/healthz of {module.name} but posts no record.")
    updated = dataclasses.replace(options, serving_module=module.name, model_path=module.model_path,
                                  script=script, smoke_record=record)
    return updated, notes


def write_ci(
    start: Path, choice: str, overrides: Mapping[str, Any] | None = None, *, force: bool = False,
    dry_run: bool = False,
) -> CiResult:
    """Plan, then write everything or nothing; refuses to drop edits to a generated file without ``force``.

    With ``dry_run`` nothing is written and the plan is returned even when edits would be lost, so that
    the caller can show the differences; then :meth:`CiResult.refuse_dropped_edits` gives the real
    run's answer.
    """
    result = plan_ci(start, choice, overrides, force=force)
    if dry_run:
        return result
    result.refuse_dropped_edits()
    result.plan.apply()
    return result


def _diff(path: Path, wanted: str) -> str:
    current = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    lines = difflib.unified_diff(current, wanted.splitlines(keepends=True), f"{path.name} (yours)",
                                 f"{path.name} (mlpack)")
    return "".join(lines)
