"""The serving image, built from the generated Dockerfile and run for real.

A Debian bookworm base with python3 is made once with mmdebstrap and cached on the machine (under
~/.cache/mlpack-tests/, keyed by its recipe); the quickstart project's Dockerfile is built against it
with buildah (vfs storage, chroot isolation, the host's network, the machine's CA bundle mounted so
that pip reaches the index) and the image's CMD runs with ``buildah run`` (``podman run`` needs
setrlimit, which this kind of machine refuses). One image serves every check: /healthz, a POST
/predict of a row of the example data, /metrics counting it, the HEALTHCHECK command, the smoke
job's own command and the non-root user of the serving process.

Without buildah or mmdebstrap (or where they cannot run) the tests skip with the reason, unless
MLPACK_CONTAINER_TESTS=required (as .ci/run sets it once it installed them): then they fail.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlpack_cli import processes, serving
from mlpack_cli.commands import ci
from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.commands.init import InitSettings, init_project

pytestmark = pytest.mark.slow

REQUIRED = os.environ.get("MLPACK_CONTAINER_TESTS") == "required"
CACHE = Path(os.environ.get("MLPACK_TEST_CACHE") or Path("~/.cache/mlpack-tests").expanduser())
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
MIRROR = os.environ.get("MLPACK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# The base image: Debian's python3 in a virtualenv on PATH (Debian's own pip refuses to install
# into the system Python), `python` as the Dockerfile calls it. Changing any of this rebuilds it.
VENV = "/opt/python"
BASE_RECIPE = (
    "--variant=minbase", "--include=python3,python3-venv",
    f"--customize-hook=chroot \"$1\" python3 -m venv {VENV}",
    "bookworm",
)
BASE_PATH = f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RUN_TIMEOUT = 600
STARTUP_TIMEOUT = 90


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (MLPACK_CONTAINER_TESTS=required)")
    pytest.skip(reason)


def run(args: list[str], *, timeout: float = RUN_TIMEOUT, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


@dataclass(frozen=True)
class Buildah:
    """buildah on storage of its own: vfs under the test cache (the base image stays between runs)."""

    root: Path
    runroot: Path

    def command(self, *args: str) -> list[str]:
        return ["buildah", "--root", str(self.root), "--runroot", str(self.runroot), "--storage-driver", "vfs",
                *args]

    def __call__(self, *args: str, timeout: float = RUN_TIMEOUT) -> str:
        done = run(self.command(*args), timeout=timeout)
        assert done.returncode == 0, f"buildah {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout.strip()


def base_key() -> str:
    return hashlib.sha256(json.dumps([BASE_RECIPE, BASE_PATH, MIRROR]).encode()).hexdigest()[:16]


@pytest.fixture(scope="session")
def base_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Buildah, str]]:
    """buildah and the name of the cached Python base image (made with mmdebstrap on first use)."""
    for tool in ("buildah", "mmdebstrap"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed: `apt-get install -y buildah mmdebstrap` (.ci/run installs them)")
    if not CA_BUNDLE.is_file():
        unavailable(f"{CA_BUNDLE} is missing: the image build's pip needs the machine's CA bundle")
    buildah = Buildah(CACHE / "containers", tmp_path_factory.mktemp("runroot"))
    probe = run(buildah.command("images", "--format", "{{.Name}}:{{.Tag}}"))
    if probe.returncode != 0:
        unavailable(f"buildah cannot run here: {probe.stderr.strip()[-500:]}")
    key = base_key()
    name = f"localhost/mlpack-test-python:{key}"
    if name not in probe.stdout.split():
        tarball = CACHE / f"python-base-{key}.tar"
        if not tarball.exists():
            partial = tarball.with_suffix(f".{os.getpid()}.partial")
            done = run(["mmdebstrap", *BASE_RECIPE, str(partial), MIRROR], timeout=1200)
            if done.returncode != 0:
                partial.unlink(missing_ok=True)
                unavailable(f"mmdebstrap could not make the base image: {done.stderr.strip()[-800:]}")
            partial.replace(tarball)
        container = buildah("from", "scratch")
        try:
            buildah("add", container, str(tarball), "/")
            buildah("config", "--env", f"PATH={BASE_PATH}", container)
            buildah("commit", "--quiet", container, name)
        finally:
            run(buildah.command("rm", container))
    yield buildah, name


@dataclass(frozen=True)
class Project:
    root: Path
    package: str
    options: ci.CiOptions
    record: dict[str, float]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The quickstart project, converted (load_model and predict included), trained as the train job
    trains it, its wheel built, `mlpack ci` written."""
    root = tmp_path_factory.mktemp("container") / "houses-demo"
    initialised = init_project(InitSettings(path=root, example=True, ci="none"))
    converted = convert_project(ConvertSettings(root=root))
    assert converted.ok, converted.failed
    (module,) = serving.discover(root / "src" / initialised.package).modules  # convert wrote its inference
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    train = run([sys.executable, "-m", f"{initialised.package}.pipelines", "run", module.name], cwd=root, env=env)
    assert train.returncode == 0, train.stderr
    (root / ci.TRAIN_OUTPUT).write_text(train.stdout)
    metrics = run([sys.executable, "-c", ci.METRICS_CODE], cwd=root)  # the train job's second step
    assert metrics.returncode == 0 and "metrics:" in metrics.stdout, metrics.stderr
    assert (root / module.model_path).is_file()
    built = run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", "dist", "."], cwd=root)
    assert built.returncode == 0, built.stderr[-2000:]
    result = ci.write_ci(root, "gitlab")
    with (root / "data" / "houses.csv").open(newline="") as handle:
        row = list(csv.DictReader(handle))[-1]  # another row than the smoke job's
    record = {key: float(value) if "." in value else int(value) for key, value in row.items()}  # as JSON numbers
    return Project(root, initialised.package, result.options, record)


@dataclass(frozen=True)
class Image:
    buildah: Buildah
    name: str
    config: dict[str, Any]
    container: str


@pytest.fixture(scope="module")
def image(base_image: tuple[Buildah, str], project: Project) -> Iterator[Image]:
    """The generated Dockerfile built once with buildah, and one working container of it."""
    buildah, base = base_image
    name = f"localhost/mlpack-test-{project.package.replace('_', '-')}:{uuid.uuid4().hex[:8]}"
    buildah("build", "--quiet", "--format", "docker", "--isolation", "chroot", "--network", "host", "--pull-never",
            "--volume", f"{CA_BUNDLE}:{CA_BUNDLE}:ro", "--build-arg", f"PYTHON_IMAGE={base}", "--tag", name,
            str(project.root), timeout=900)
    try:
        config = json.loads(buildah("inspect", "--type", "image", name))["Docker"]["config"]
        container = buildah("from", "--pull-never", name)
        try:
            yield Image(buildah, name, config, container)
        finally:
            run(buildah.command("rm", container))
    finally:
        run(buildah.command("rmi", name))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("0.0.0.0", 0))
        return int(probe.getsockname()[1])


def on_port(command: list[str], port: int) -> list[str]:
    """The command with its port swapped: the container shares the host's network (and its ports)."""
    swapped = list(command)
    swapped[swapped.index("--port") + 1] = str(port)
    return swapped


def get(url: str, *, data: Any = None) -> tuple[int, bytes]:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass(frozen=True)
class Service:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module")
def service(image: Image, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The image's CMD (on a free port), run in the container with `buildah run`; stopped by its group."""
    port = free_port()
    log = tmp_path_factory.mktemp("service") / "service.log"
    command = image.buildah.command("run", "--isolation", "chroot", "--network", "host", image.container, "--",
                                    *on_port(image.config["Cmd"], port))
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while get_status(url + "/healthz") != 200:
            assert process.poll() is None, f"the service exited with {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no /healthz within {STARTUP_TIMEOUT} s:\n{log.read_text()}"
            time.sleep(0.5)
        yield Service(url, port, process, log)
    finally:
        processes.stop(process, grace=30, group=True)


def get_status(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None


def test_the_image_is_configured_to_serve_as_a_non_root_user(image: Image, project: Project) -> None:
    assert image.config["User"] == "10001:10001"
    assert "8080/tcp" in image.config["ExposedPorts"]
    assert image.config["Cmd"] == project.options.serve_command()
    assert image.config["Healthcheck"]["Test"][0] == "CMD"
    # one `buildah run` (each costs seconds on vfs): the model directory and the installed distributions
    inside = json.loads(image.buildah("run", "--isolation", "chroot", image.container, "--", "python", "-c", (
        "import json, os; from importlib import metadata; "
        f"print(json.dumps([os.listdir({ci.MODEL_DIR!r}), [d.metadata['Name'] for d in metadata.distributions()]]))")))
    files, names = inside[0], {name.lower() for name in inside[1]}
    assert files and all(name.startswith(project.options.model_file) for name in files)
    assert {"houses-demo", "starlette", "uvicorn"} <= names  # the wheel with its serve extra


def test_the_service_answers_health_then_a_prediction_and_counts_it(service: Service, project: Project) -> None:
    status, body = get(service.url + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok", "model": project.options.model_file}
    status, body = get(service.url + "/predict", data={"records": [project.record]})
    assert status == 200, body
    (prediction,) = json.loads(body)["predictions"]
    assert isinstance(prediction, float) and prediction > 0
    status, body = get(service.url + "/metrics")
    assert status == 200
    counted = [line for line in body.decode().splitlines() if line.startswith(f"{project.package}_predictions_total ")]
    assert counted == [f"{project.package}_predictions_total 1.0"]


def test_the_serving_process_runs_as_the_non_root_user(service: Service) -> None:
    uids = set()
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            status = (proc / "status").read_text()
        except OSError:
            continue
        if b"serve" in args and str(service.port).encode() in args and not args[0].endswith(b"buildah"):
            uids.add(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
    assert uids == {"10001"}


def test_the_healthcheck_command_passes_against_the_running_service(image: Image, service: Service) -> None:
    test = image.config["Healthcheck"]["Test"][1:]
    swapped = [part.replace(f":{ci.SERVE_PORT}/", f":{service.port}/") for part in test]
    assert swapped != test
    done = run(image.buildah.command("run", "--isolation", "chroot", "--network", "host", image.container, "--",
                                     *swapped))
    assert done.returncode == 0, done.stderr
    stopped = run(image.buildah.command("run", "--isolation", "chroot", "--network", "host", image.container, "--",
                                        *[part.replace(str(service.port), str(free_port())) for part in swapped]))
    assert stopped.returncode != 0, "the healthcheck must fail when nothing answers"


def test_the_smoke_job_command_posts_the_record_and_gets_a_prediction(image: Image, project: Project) -> None:
    port = free_port()
    options = project.options
    assert options.smoke_record is not None
    command = ["python", "-c", ci.SMOKE_CODE, str(port), *options.serve_command("127.0.0.1", port)]
    done = run(image.buildah.command("run", "--isolation", "chroot", "--network", "host",
                                     "--env", f"MLPACK_SMOKE_RECORD={options.smoke_record}", image.container, "--",
                                     *command), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "prediction:" in done.stdout
