"""Each example in examples/ served by a real server, answering its sample request."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ._support import REPO_ROOT, ServerFactory

EXAMPLES = REPO_ROOT / "examples"

# Served with --host 127.0.0.1 (ours): local tooling stays off the network.
pytestmark = pytest.mark.ours


def start_example(server: ServerFactory, name: str, model_dir: Path | None = None):
    example = EXAMPLES / name
    return server.start(
        None,
        "--host",
        "127.0.0.1",
        entry_script=str(example / "score.py"),
        model_dir=model_dir or example / "model",
        cwd=REPO_ROOT,
    )


def test_hello_answers_its_sample_request(server: ServerFactory) -> None:
    srv = start_example(server, "hello")
    body = (EXAMPLES / "hello" / "sample-request.json").read_bytes()
    r = srv.score(body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, srv.describe()
    assert r.json() == {"message": "Hello, world!"}
    assert srv.get("/score", params={"name": "Azure"}).json() == {"message": "Hello, Azure!"}


def test_sklearn_model_trained_by_its_setup_step_predicts(server: ServerFactory, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(EXAMPLES / "sklearn" / "model", model_dir)
    subprocess.run([sys.executable, str(EXAMPLES / "sklearn" / "train.py"), str(model_dir)], check=True, timeout=120)
    srv = start_example(server, "sklearn", model_dir)
    body = (EXAMPLES / "sklearn" / "sample-request.json").read_bytes()
    r = srv.score(body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, srv.describe()
    predictions = r.json()
    assert len(predictions) == len(json.loads(body)["data"])
    assert predictions == pytest.approx([203.49034130608567, 72.26737548754974])


def test_sklearn_without_trained_model_fails_at_init_with_a_hint(server: ServerFactory, tmp_path: Path) -> None:
    empty = tmp_path / "empty-model"
    empty.mkdir()
    srv = server.start(
        None, entry_script=str(EXAMPLES / "sklearn" / "score.py"), model_dir=empty, cwd=REPO_ROOT, wait=False
    )
    assert srv.wait_exit(60) == 3
    assert "train.py" in srv.logs()


def test_rawhttp_image_turns_the_sample_into_a_grayscale_png(server: ServerFactory) -> None:
    from PIL import Image

    spec = json.loads((EXAMPLES / "rawhttp-image" / "sample-request.json").read_text())
    image = (EXAMPLES / "rawhttp-image" / spec["bodyFile"]).read_bytes()
    srv = start_example(server, "rawhttp-image")
    r = srv.score(image, headers=spec["headers"])
    assert r.status_code == 200, srv.describe()
    assert r.headers["Content-Type"] == "image/png"
    out = Image.open(io.BytesIO(r.content))
    original = Image.open(io.BytesIO(image))
    assert out.format == "PNG" and out.mode == "L" and out.size == original.size

    bad = srv.score(b"not an image", headers={"Content-Type": "image/png"})
    assert bad.status_code == 400
    assert "message" in bad.json()


def test_schema_example_validates_and_predicts(server: ServerFactory) -> None:
    srv = start_example(server, "schema")
    body = json.loads((EXAMPLES / "schema" / "sample-request.json").read_text())
    r = srv.score(json=body)
    assert r.status_code == 200, srv.describe()
    assert r.json() == [292050.0, 179800.0]
    swagger = srv.get("/swagger.json").json()
    assert swagger["definitions"]["ServiceInput"]["example"] == body
    missing = srv.score(json={"method": "predict"})
    assert missing.status_code == 400
    assert missing.json() == {"message": "A value is not provided for the 'data' parameter."}
