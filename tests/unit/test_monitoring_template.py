"""The generated ``monitoring.py``: counting, latency, Prometheus samples, drift and the webhook.

The module is rendered from the template, imported from a temporary directory, and talks to a real
``http.server`` on 127.0.0.1 and to a real prometheus-client registry.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mlpack_cli.commands.ci import render_monitoring

PACKAGE = "churn_model"


@pytest.fixture
def module_path(tmp_path: Path) -> Path:
    path = tmp_path / "monitoring.py"
    path.write_text(render_monitoring(PACKAGE), encoding="utf-8")
    return path


@pytest.fixture
def monitoring(module_path: Path) -> Iterator[ModuleType]:
    """A fresh import of the rendered module (its counters and registry start empty)."""
    spec = importlib.util.spec_from_file_location(f"monitoring_{id(module_path)}", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    module.stop_metrics_server()


class Webhook:
    """A local HTTP endpoint that records the JSON bodies and headers posted to it."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[tuple[dict[str, Any], dict[str, str]]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((json.loads(body), dict(self.headers)))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    with Webhook() as hook:
        monkeypatch.setenv("MLPACK_WEBHOOK_URL", hook.url)
        yield hook


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- the module itself -------------------------------------------------------------------------


def test_module_level_imports_are_standard_library_only(module_path: Path) -> None:
    tree = ast.parse(module_path.read_text())
    top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = {alias.name.split(".")[0] for node in top if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module.split(".")[0] for node in top if isinstance(node, ast.ImportFrom) and node.module}
    assert names and names <= set(sys.stdlib_module_names)


def test_works_without_prometheus_client(module_path: Path) -> None:
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        f"sys.path.insert(0, {str(module_path.parent)!r})\n"
        "import monitoring\n"
        "with monitoring.track('model.predict', items=3): pass\n"
        "assert monitoring.start_metrics_server(9) is None\n"
        "print(monitoring.snapshot()['model.predict']['items'], monitoring.REGISTRY)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["3", "None"]


def test_passes_the_generated_projects_flake8(module_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "flake8", "--max-line-length", "100", str(module_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


# -- counting and latency ----------------------------------------------------------------------


def test_track_counts_calls_items_errors_and_time(monitoring: ModuleType) -> None:
    with monitoring.track("houses.run"):
        pass
    with monitoring.track("houses.predict") as tracking:
        tracking.items = 25
    with pytest.raises(ValueError), monitoring.track("houses.predict"):
        raise ValueError("bad input")
    stats = monitoring.snapshot()
    assert monitoring.counts() == {"houses.run": 1, "houses.predict": 2}
    assert (stats["houses.predict"]["items"], stats["houses.predict"]["errors"]) == (26, 1)
    assert 0 <= stats["houses.run"]["seconds"] <= stats["houses.run"]["max_seconds"] + 1e-9


def test_prometheus_samples(monitoring: ModuleType) -> None:
    with monitoring.track("houses.predict", items=10):
        pass
    with pytest.raises(RuntimeError), monitoring.track("houses.predict", items=5):
        raise RuntimeError
    labels = {"package": PACKAGE, "name": "houses.predict"}
    sample = monitoring.REGISTRY.get_sample_value
    assert sample("mlpack_calls_total", labels) == 2
    assert sample("mlpack_predictions_total", labels) == 15
    assert sample("mlpack_errors_total", labels) == 1
    assert sample("mlpack_latency_seconds_count", labels) == 2
    assert sample("mlpack_latency_seconds_sum", labels) >= 0


def test_metrics_server_from_the_environment(monitoring: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("MLPACK_METRICS_PORT", str(port))
    with monitoring.track("houses.run"):
        pass
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert f'mlpack_calls_total{{name="houses.run",package="{PACKAGE}"}} 1.0' in text


# -- webhook -----------------------------------------------------------------------------------


def test_notify_posts_json_to_the_webhook(monitoring: ModuleType, webhook: Webhook,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPACK_WEBHOOK_TOKEN", "s3cret")
    assert monitoring.notify("release", version="1.2.0") is True
    ((payload, headers),) = webhook.received
    assert payload["event"] == "release" and payload["package"] == PACKAGE and payload["version"] == "1.2.0"
    assert {"time", "host"} <= set(payload)
    assert headers["Content-Type"] == "application/json" and headers["Authorization"] == "Bearer s3cret"


def test_notify_never_raises(monitoring: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    assert monitoring.notify("release") is False  # no webhook configured
    with Webhook(status=500) as failing:
        assert monitoring.notify("release", url=failing.url) is False
    assert monitoring.notify("release", url=f"http://127.0.0.1:{free_port()}/") is False  # nothing listening
    assert monitoring.notify("release", url="file:///etc/passwd") is False


def test_command_line_notify_as_the_ci_monitor_job_runs_it(module_path: Path, webhook: Webhook) -> None:
    done = subprocess.run(
        [sys.executable, str(module_path), "notify", "release", "version=v1.0.0", "environment=production"],
        capture_output=True, text=True, env={**os.environ, "MLPACK_WEBHOOK_URL": webhook.url},
    )
    assert done.returncode == 0, done.stderr
    ((payload, _),) = webhook.received
    assert (payload["event"], payload["version"], payload["environment"]) == ("release", "v1.0.0", "production")


def test_command_line_without_a_webhook_or_with_bad_arguments(module_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MLPACK_WEBHOOK_URL"}
    quiet = subprocess.run([sys.executable, str(module_path), "notify", "release"],
                           capture_output=True, text=True, env=env)
    assert quiet.returncode == 0 and "not set" in quiet.stderr
    usage = subprocess.run([sys.executable, str(module_path), "notify"], capture_output=True, text=True, env=env)
    assert usage.returncode == 2 and "usage" in usage.stderr


# -- drift -------------------------------------------------------------------------------------

TRAINING = [{"area": 50.0 + i, "rooms": 1 + i % 4, "city": "Lyon" if i % 2 else "Paris"} for i in range(200)]


def test_reference_is_captured_at_training_time(monitoring: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "reference.json"
    summary = monitoring.capture_reference(TRAINING, path=str(path))
    saved = json.loads(path.read_text())
    assert saved["columns"] == summary and saved["package"] == PACKAGE
    assert summary["area"]["kind"] == "numeric" and summary["area"]["mean"] == pytest.approx(149.5)
    assert summary["city"] == {"count": 200, "missing": 0, "kind": "categorical",
                               "shares": {"Lyon": 0.5, "Paris": 0.5}}


def test_same_distribution_is_not_drift(monitoring: ModuleType, tmp_path: Path, webhook: Webhook) -> None:
    monitoring.capture_reference(TRAINING, path=str(tmp_path / "ref.json"))
    columns = {key: [row[key] for row in TRAINING[::3]] for key in ("area", "rooms", "city")}
    report = monitoring.check_drift(columns, reference=str(tmp_path / "ref.json"))
    assert report["drifted"] == [] and webhook.received == []
    assert all(entry["psi"] < 0.1 for entry in report["columns"].values())


def test_shifted_inputs_are_drift_and_notify(monitoring: ModuleType, tmp_path: Path, webhook: Webhook,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPACK_REFERENCE_PATH", str(tmp_path / "ref.json"))
    monitoring.capture_reference(TRAINING)
    rows = [{"area": row["area"] + 150.0, "rooms": row["rooms"], "city": "Paris"} for row in TRAINING]
    report = monitoring.check_drift(rows)
    assert set(report["drifted"]) == {"area", "city"}
    assert report["columns"]["rooms"]["status"] == "ok"
    assert report["columns"]["area"]["mean"] == pytest.approx(299.5)
    ((payload, _),) = webhook.received
    assert payload["event"] == "drift" and set(payload["columns"]) == {"area", "city"}
    gauge = monitoring.REGISTRY.get_sample_value("mlpack_drift_psi", {"package": PACKAGE, "column": "area"})
    assert gauge == pytest.approx(report["columns"]["area"]["psi"]) and gauge > 0.2


def test_missing_columns_and_a_threshold_from_the_environment(monitoring: ModuleType, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    reference = monitoring.summarize(TRAINING)
    monkeypatch.setenv("MLPACK_DRIFT_THRESHOLD", "100")
    report = monitoring.check_drift([{"area": 1000.0, "rooms": 2}], reference=reference)
    assert report["threshold"] == 100 and report["drifted"] == ["city"]
    assert report["columns"]["city"] == {"status": "absent"}


def test_rows_as_lists_get_positional_column_names(monitoring: ModuleType) -> None:
    summary = monitoring.summarize([[1.0, "a"], [2.0, None], [3.0, "a"]])
    assert (summary["0"]["mean"], summary["1"]["missing"], summary["1"]["shares"]) == (2.0, 1, {"a": 1.0})
