"""Train the example model: a Ridge regression on scikit-learn's bundled diabetes data set.

Usage: ``python examples/sklearn/train.py [OUTPUT_DIR]`` (default: the ``model`` folder next to
this file). Writes ``model.joblib``. Deterministic, needs no download and runs in about a second.
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split

DEFAULT_OUTPUT_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILE = "model.joblib"


def train(output_dir: Path = DEFAULT_OUTPUT_DIR) -> Path:
    """Fit the model and save it as ``output_dir/model.joblib``; returns the file's path."""
    x, y = load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    model = Ridge(alpha=0.1).fit(x_train, y_train)
    print(f"R^2 on the held-out set: {model.score(x_test, y_test):.3f}")
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / MODEL_FILE
    joblib.dump(model, path)
    print(f"Model written to {path}")
    return path


if __name__ == "__main__":
    if len(sys.argv) > 2:
        sys.exit(f"usage: {sys.argv[0]} [OUTPUT_DIR]")
    train(Path(sys.argv[1]) if len(sys.argv) == 2 else DEFAULT_OUTPUT_DIR)
