"""The generated ``serving.py`` (templates/module/serving.py.j2) as convert writes it, in a package of
its own with the generated ``monitoring.py`` and a small pipeline module, through starlette's
TestClient; the webhook is a real ``http.server`` on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mlpack_cli.entrypoint import serving_module_text
from mlpack_cli.templating import render

_numbers = itertools.count()

# A pipeline that serves, as convert writes one: a JSON model, predict() reads one column.
PIPELINE = '''
import json

MODEL_PATH = "model.json"


def load_model(path=MODEL_PATH):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def predict(records, model=None):
    model = load_model() if model is None else model
    if any(r["size_m2"] is None for r in records):
        raise ValueError("no size")
    return [model["slope"] * r["size_m2"] + model["intercept"] for r in records]
'''


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"servedemo{next(_numbers)}"
    root = tmp_path / "src" / name
    root.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "monitoring.py").write_text(render("module/monitoring.py.j2", package=name))
    (root / "serving.py").write_text(serving_module_text())
    (root / "houses.py").write_text(PIPELINE)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.chdir(tmp_path)
    for variable in ("MLPACK_WEBHOOK_URL", "MLPACK_DRIFT_THRESHOLD", "MLPACK_DRIFT_WINDOW", "MLPACK_METRICS_PORT"):
        monkeypatch.delenv(variable, raising=False)
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]


def _module(package: str, name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"{package}.{name}")


def _trained(package: str, path: str = "model.json", sizes: list[float] | None = None) -> None:
    """What run() leaves beside the model: the model, its columns and the drift reference."""
    serving, houses = _module(package, "serving"), _module(package, "houses")
    model = {"slope": 2.0, "intercept": 30.0}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(model))
    sizes = sizes or [40.0 + 3 * i for i in range(60)]
    training = [{"size_m2": s, "rooms": 1 + i % 4, "price_k": 2 * s + 30} for i, s in enumerate(sizes)]
    serving.capture(houses.predict, training, path, model=model)


def _client(package: str, model_path: str | None = None) -> Any:
    from starlette.testclient import TestClient

    app = _module(package, "serving").create_app("houses", model_path, background=False)
    return TestClient(app)


def test_capture_keeps_the_columns_predict_reads_and_the_reference(package: str) -> None:
    _trained(package)
    schema = json.loads(Path("model.json.mlpack.json").read_text())
    assert schema["columns"] == {"size_m2": "number"} and schema["form"] == "rows"  # no label, no rooms
    reference = json.loads(Path("model.json.reference.json").read_text())["columns"]
    assert set(reference) == {"size_m2"} and reference["size_m2"]["count"] == 60


def test_predict_healthz_and_metrics(package: str) -> None:
    _trained(package)
    with _client(package) as client:
        health = client.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok", "model": "model.json"})
        answer = client.post("/predict", json={"records": [{"size_m2": 100, "extra": "ignored"}, {"size_m2": 50.5}]})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": [230.0, 131.0]}
        bare = client.post("/predict", json=[{"size_m2": 10}])
        assert bare.json() == {"predictions": [50.0]}
        metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert f"{package}_predictions_total 3.0" in text
    assert f"{package}_prediction_latency_seconds_count 2.0" in text
    assert f'{package}_prediction_errors_total{{reason="invalid"}} 0.0' in text
    assert f"{package}_model_loaded 1.0" in text


@pytest.mark.parametrize(("body", "detail"), [
    ({"records": [{"size_m2": 1}, {"rooms": 2}]}, "record 1: missing column 'size_m2'"),
    ({"records": [{"size_m2": "big"}]}, "record 0: column 'size_m2' must be a number, got \"big\""),
    ({"records": [{"size_m2": True}]}, "record 0: column 'size_m2' must be a number, got true"),
    ({"records": [{"size_m2": [1]}]}, "record 0: column 'size_m2' must be a number, got list"),
    ({"records": [3]}, "record 0: expected an object of column values, got int"),
    ({"rows": []}, 'expected {"records": [{...}, ...]} or a list of records'),
    ({"records": {"size_m2": 1}}, "expected a list of records (objects), got one object"),
])
def test_bad_records_are_a_422_naming_the_column(package: str, body: Any, detail: str) -> None:
    _trained(package)
    with _client(package) as client:
        answer = client.post("/predict", json=body)
        assert answer.status_code == 422
        assert answer.json()["detail"].startswith(detail)
        metrics = client.get("/metrics").text
    assert f'{package}_prediction_errors_total{{reason="invalid"}} 1.0' in metrics
    assert f"{package}_predictions_total 0.0" in metrics


def test_a_body_that_is_not_json_is_a_422(package: str) -> None:
    _trained(package)
    with _client(package) as client:
        answer = client.post("/predict", content=b"{nope", headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "not JSON" in answer.json()["detail"]


def test_a_failing_model_is_a_500_counted_as_failed(package: str) -> None:
    _trained(package)
    with _client(package) as client:
        answer = client.post("/predict", json={"records": [{"size_m2": None}]})  # null passes the check
        assert answer.status_code == 500 and answer.json() == {"detail": "predict failed: ValueError"}
        metrics = client.get("/metrics").text
    assert f'{package}_prediction_errors_total{{reason="failed"}} 1.0' in metrics


def test_healthz_is_503_while_the_model_cannot_load(package: str) -> None:
    with _client(package, "missing/model.json") as client:  # never trained
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "error"
        assert "missing/model.json" in health.json()["detail"]
        answer = client.post("/predict", json=[{"size_m2": 1}])
        assert answer.status_code == 503
        assert f"{package}_model_loaded 0.0" in client.get("/metrics").text


def test_another_model_path_brings_its_own_columns(package: str) -> None:
    _trained(package, "elsewhere/m.json")
    with _client(package, "elsewhere/m.json") as client:
        assert client.get("/healthz").json() == {"status": "ok", "model": "m.json"}
        assert client.post("/predict", json=[{"size_m2": 1}]).json() == {"predictions": [32.0]}


class _Webhook(BaseHTTPRequestHandler):
    events: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).events.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    _Webhook.events = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("MLPACK_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook")
    yield _Webhook.events
    server.shutdown()
    server.server_close()


def _wait_for(events: list[dict[str, Any]], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(events) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_drift_sets_the_gauges_and_notifies_once_when_a_column_crosses(
        package: str, webhook: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPACK_DRIFT_MIN_RECORDS", "20")
    _trained(package)
    with _client(package) as client:
        like_training = [{"size_m2": 40.0 + 3 * i} for i in range(60)]
        assert client.post("/predict", json=like_training).status_code == 200
        text = client.get("/metrics").text
        assert f'{package}_drift_psi{{column="size_m2"}} 0.0' in text
        assert f"{package}_drifted_columns 0.0" in text
        for _ in range(3):  # far larger flats than in training: the window drifts, one event only
            assert client.post("/predict", json=[{"size_m2": 900.0 + i} for i in range(200)]).status_code == 200
        text = client.get("/metrics").text
    _wait_for(webhook, 1)
    time.sleep(0.2)
    assert f"{package}_drifted_columns 1.0" in text
    psi = next(line for line in text.splitlines() if line.startswith(f'{package}_drift_psi{{column="size_m2"}}'))
    assert float(psi.split()[-1]) > 0.2
    assert len(webhook) == 1
    event = webhook[0]
    assert event["event"] == "drift" and event["columns"] == ["size_m2"] and event["pipeline"] == "houses"
    assert event["package"] == package and event["threshold"] == 0.2


def test_too_few_records_never_count_as_drift(package: str, webhook: list[dict[str, Any]]) -> None:
    _trained(package)
    with _client(package) as client:
        assert client.post("/predict", json=[{"size_m2": 5000.0}]).status_code == 200  # one odd flat
        text = client.get("/metrics").text
    time.sleep(0.2)
    assert f"{package}_drifted_columns 0.0" in text and webhook == []


def test_to_json_makes_predictions_json() -> None:
    namespace: dict[str, Any] = {"__name__": "demo.serving"}
    exec(compile(serving_module_text(), "serving.py", "exec"), namespace)  # noqa: S102 - our own template
    numpy = pytest.importorskip("numpy")
    assert namespace["to_json"](numpy.array([1.5, float("nan")])) == [1.5, None]
    assert namespace["to_json"]((numpy.int64(3), "a")) == [3, "a"]
