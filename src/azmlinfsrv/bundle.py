"""Do the packages the server will import fit together? (the .vsix's server, before any import)

The extension runs the server with the user's site-packages first and the libraries it
ships after them (bundled/tool/launch.py): the user's flask, werkzeug, numpy... win, ours
fill what is missing. A user's version we cannot work with (flask 2.2 where we need
>=2.3), or one of ours that does not fit a user's package (our flask with their old
werkzeug), would fail later with an obscure traceback; this finds it first and says in one
sentence which package, which version is there, and which is needed.

The walk starts from azmlinfsrv's own requirements (its metadata in the bundle) and follows
the requirements of every distribution it reaches, each found as the import system will find
it: the first one along ``sys.path``.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .debugging import LISTEN_ENV

OWN_NAME = "azmlinfsrv"
CONNECT_ENV = "AZUREML_DEBUG_PORT"  # the reference's way in: also imports debugpy


@dataclass(frozen=True)
class Misfit:
    """One requirement the chosen distribution does not satisfy."""

    name: str
    found: str | None  # the version found, None when the package is missing
    location: str
    needed: str  # the specifier, e.g. ">=2.3,<4"
    wanted_by: str  # "azmlinfsrv", "flask 3.1.3"

    def sentence(self) -> str:
        need = f"{self.wanted_by} needs {self.name}{self.needed}"
        if self.found is None:
            return f"{self.name} is missing: {need}"
        return (
            f"{self.name} {self.found} (in {self.location}) does not fit: {need}. "
            f"Change it in that environment, or remove it there to use the one the extension brings"
        )


def _packaging(libs: str) -> tuple[Any, Any]:
    """packaging's Requirement and canonicalize_name from the bundle, without leaving them imported.

    The user's code may import its own packaging later: ours is forgotten once we have the classes.
    """
    saved = sys.path[:]
    sys.path.insert(0, libs)
    try:
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name
    finally:
        sys.path[:] = saved
        for name in [m for m in sys.modules if m == "packaging" or m.startswith("packaging.")]:
            del sys.modules[name]
    return Requirement, canonicalize_name


def find(name: str, path: list[str]) -> metadata.Distribution | None:
    """The distribution the import system will use: the first along ``path``."""
    return next(iter(metadata.distributions(name=name, path=path)), None)


def _location(dist: metadata.Distribution) -> str:
    return os.path.normpath(str(dist.locate_file("")))


def _wanted(requires: list[str] | None, requirement: Any) -> Iterator[tuple[Any, str]]:
    """The requirements that apply here (no extras, markers true for this interpreter), with their text."""
    for text in requires or []:
        req = requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            yield req, text


def as_written(text: str) -> str:
    """A requirement's specifier as its author wrote it: ">=2.3,<4" (packaging's str() sorts it)."""
    spec = re.sub(r"^\s*[A-Za-z0-9._-]+\s*(\[[^\]]*\])?", "", text.split(";", 1)[0])
    return re.sub(r"\s+", "", spec).strip("()")


def misfits(libs: str, path: list[str], debugging: bool) -> list[Misfit]:
    requirement, canonical = _packaging(libs)
    own = find(OWN_NAME, path)
    if own is None:
        return []  # not the bundle (a plain install): pip already resolved it
    roots = list(_wanted(own.requires, requirement))
    if debugging:  # debugpy is imported only by a worker that waits for a debugger
        roots += [(requirement(t), t) for t in own.requires or [] if canonical(requirement(t).name) == "debugpy"]
    queue = [(req, text, OWN_NAME) for req, text in roots]
    seen: set[str] = set()
    found: list[Misfit] = []
    while queue:
        req, text, wanted_by = queue.pop(0)
        name = canonical(req.name)
        dist = find(req.name, path)
        if dist is None or not req.specifier.contains(dist.version, prereleases=True):
            where = _location(dist) if dist is not None else ""
            found.append(Misfit(name, dist.version if dist else None, where, as_written(text), wanted_by))
            continue
        if name not in seen:
            seen.add(name)
            queue += [(r, t, f"{name} {dist.version}") for r, t in _wanted(dist.requires, requirement)]
    return found


def check_environment(libs: str) -> str | None:
    """None when everything fits, else one line naming each misfit package and the version needed."""
    debugging = os.environ.get(LISTEN_ENV) is not None or bool(os.environ.get(CONNECT_ENV))
    found = misfits(libs, sys.path, debugging)
    return "; ".join(m.sentence() for m in found) or None
