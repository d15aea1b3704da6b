"""Import names of the reference server that score.py scripts use.

``azureml.contrib.services.aml_request`` and friends resolve to our ``azmlinfsrv.api``
modules. The finder sits last on ``sys.meta_path``, so a real ``azureml`` or
``azureml_inference_server_http`` installation is always found first and never shadowed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

ALIASES = {
    "azureml.contrib.services.aml_request": "azmlinfsrv.api.aml_request",
    "azureml.contrib.services.aml_response": "azmlinfsrv.api.aml_response",
    "azureml_inference_server_http.api.aml_request": "azmlinfsrv.api.aml_request",
    "azureml_inference_server_http.api.aml_response": "azmlinfsrv.api.aml_response",
    # logging.json files copied from the reference's docs name its formatter class.
    "azureml_inference_server_http.log_config": "azmlinfsrv.logs",
}
PACKAGES = {
    "azureml",
    "azureml.contrib",
    "azureml.contrib.services",
    "azureml_inference_server_http",
    "azureml_inference_server_http.api",
}


class _Loader(importlib.abc.Loader):
    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        target = ALIASES.get(spec.name)
        if target:
            module = importlib.import_module(target)
            self._specs[target] = module.__spec__
            return module
        return None  # default: an empty module, made a package by the spec

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias's spec on the real module: give its own back.
        if module.__name__ in self._specs:
            module.__spec__ = self._specs[module.__name__]


class AliasFinder(importlib.abc.MetaPathFinder):
    _loader = _Loader()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in ALIASES:
            return importlib.machinery.ModuleSpec(fullname, self._loader)
        if fullname in PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, self._loader, is_package=True)
        return None


def install() -> None:
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(AliasFinder())
