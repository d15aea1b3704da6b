"""Minimal undecorated score.py: the server passes run() the request body as a JSON string.

init() reads the greeting template from the model directory (``AZUREML_MODEL_DIR``), so it
shows how a model folder reaches user code. Standard library only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

greeting = "Hello, {name}!"


def init() -> None:
    """Load the greeting template ``model/greeting.txt`` from the model directory."""
    global greeting
    model_dir = Path(os.environ.get("AZUREML_MODEL_DIR", Path(__file__).parent / "model"))
    greeting = (model_dir / "greeting.txt").read_text(encoding="utf-8").strip()
    print(f"Loaded greeting template {greeting!r} from {model_dir}")


def run(raw_data: str) -> dict[str, str]:
    """Greet the ``name`` given in the JSON body, e.g. {"name": "world"} -> {"message": "Hello, world!"}."""
    try:
        data = json.loads(raw_data) if raw_data else {}
    except json.JSONDecodeError:
        data = {}
    name = data.get("name", "world") if isinstance(data, dict) else "world"
    return {"message": greeting.format(name=name)}
