"""scikit-learn regression served by an undecorated run().

init() loads ``model.joblib`` (a Ridge regression on the diabetes data set, made by
``python examples/sklearn/train.py``) from ``AZUREML_MODEL_DIR``; run() takes
{"data": [[10 floats], ...]} as a JSON string and returns one prediction per row.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import joblib
import numpy as np

MODEL_FILE = "model.joblib"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"
N_FEATURES = 10

model: Any = None


def init() -> None:
    """Load the trained model from the model directory."""
    global model
    model_dir = Path(os.environ["AZUREML_MODEL_DIR"])
    path = model_dir / MODEL_FILE
    if not path.is_file():
        command = "python examples/sklearn/train.py"
        if model_dir.resolve() != DEFAULT_MODEL_DIR:
            command += f" {model_dir}"
        raise FileNotFoundError(f"Model file {path} not found. Train the example model first: {command}")
    model = joblib.load(path)
    print(f"Loaded {type(model).__name__} from {path}")


def run(raw_data: str) -> list[float]:
    """Predict the disease progression for each row of ``data`` (10 standardised features per row)."""
    rows = np.asarray(json.loads(raw_data)["data"], dtype=float)
    if rows.ndim != 2 or rows.shape[1] != N_FEATURES:
        raise ValueError(f"'data' must be a list of rows of {N_FEATURES} numbers, got shape {rows.shape}")
    return [float(p) for p in model.predict(rows)]
