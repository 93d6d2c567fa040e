"""``<project> serve`` for real: the example project converted, installed with its ``serve`` extra
into a fresh virtualenv, trained with ``<project> run``, then served by uvicorn on a free port of
127.0.0.1 and asked over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlpack_cli import processes
from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.commands.init import InitSettings, init_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tool_caches")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read().decode(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def test_the_example_project_serves_predictions(tmp_path: Path, make_venv: Callable[[str], Path],
                                                pip_install: Callable[..., Any]) -> None:
    root = tmp_path / "demo"
    init_project(InitSettings(path=root, name="demo", ci="none", example=True))
    assert convert_project(ConvertSettings(root=root)).ok
    python = make_venv("venv")
    pip_install(python, f"{root}[serve]")
    script = python.parent / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MLPACK_DRIFT_MIN_RECORDS"] = "1"  # one request is enough to see the gauge here
    trained = subprocess.run([script, "run", "houses"], cwd=root, env=env, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr
    assert sorted(p.name for p in root.glob("model.json*")) == [
        "model.json", "model.json.mlpack.json", "model.json.reference.json"]
    listed = subprocess.run([script, "list", "--json"], cwd=root, env=env, capture_output=True, text=True)
    assert json.loads(listed.stdout) == [{"name": "houses", "serves": True, "model": "model.json"}]

    port = _free_port()
    service = subprocess.Popen([script, "serve", "houses", "--port", str(port)], cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        health: tuple[int, Any] = (0, None)
        while time.monotonic() < deadline:
            try:
                health = _request(f"{base}/healthz")
                if health[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert service.poll() is None, service.stdout.read() if service.stdout else ""
            time.sleep(0.3)
        assert health == (200, {"status": "ok", "model": "model.json"})
        model = json.loads((root / "model.json").read_text())
        status, answer = _request(f"{base}/predict", {"records": [{"size_m2": 100, "rooms": 3}]})
        assert status == 200, answer
        assert answer["predictions"] == pytest.approx([model["slope"] * 100 + model["intercept"]])
        status, answer = _request(f"{base}/predict", {"records": [{"rooms": 3}]})
        assert (status, answer) == (422, {"detail": "record 0: missing column 'size_m2'"})
        status, metrics = _request(f"{base}/metrics")
        assert status == 200
        assert "demo_predictions_total 1.0" in metrics
        assert 'demo_prediction_errors_total{reason="invalid"} 1.0' in metrics
        assert "demo_prediction_latency_seconds_count 1.0" in metrics
        assert 'demo_drift_psi{column="size_m2"}' in metrics
    finally:
        processes.stop(service, polite=signal.SIGINT)
