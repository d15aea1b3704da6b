"""Typed inputs and a generated OpenAPI document with inference-schema.

run() is decorated with @input_schema / @output_schema, so the server:
- takes run()'s parameters from the JSON body by name (``data`` and the optional ``method``),
- converts ``data`` (a list of records) into a pandas DataFrame before calling run(),
- describes inputs and outputs in GET /swagger.json, with the samples below as examples.

The model is a small linear model whose coefficients live in ``model/model.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

SAMPLE_INPUT = pd.DataFrame(
    {
        "area_m2": [72.5, 48.0],
        "rooms": [3, 2],
        "age_years": [12, 40],
    }
)
SAMPLE_METHOD = "predict"
SAMPLE_OUTPUT = np.array([292050.0, 179800.0])
METHODS = ("predict", "price_per_m2")

features: list[str] = []
coefficients = np.zeros(0)
intercept = 0.0


def init() -> None:
    """Load the coefficients from ``model.json`` in the model directory."""
    global features, coefficients, intercept
    model_dir = Path(os.environ.get("AZUREML_MODEL_DIR", Path(__file__).parent / "model"))
    spec = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    features = list(spec["features"])
    coefficients = np.asarray(spec["coefficients"], dtype=float)
    intercept = float(spec["intercept"])
    print(f"Loaded linear model over {features} from {model_dir}")


@input_schema("data", PandasParameterType(SAMPLE_INPUT))
@input_schema("method", StandardPythonParameterType(SAMPLE_METHOD))
@output_schema(NumpyParameterType(SAMPLE_OUTPUT))
def run(data: pd.DataFrame, method: str = "predict") -> list[float]:
    """Price each flat (``method="predict"``) or give its price per m² (``method="price_per_m2"``)."""
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; expected one of {METHODS}")
    prices = data[features].to_numpy(dtype=float) @ coefficients + intercept
    if method == "price_per_m2":
        prices = prices / data["area_m2"].to_numpy(dtype=float)
    # The server JSON-encodes the return value: hand it plain floats, not a numpy array.
    return [round(float(p), 2) for p in prices]
