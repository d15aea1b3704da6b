"""Fixtures shared by the suites that start real servers: real processes, free ports, real HTTP.

``server.start(score_py_source, *cli_args, env=..., files=...)`` starts `azmlinfsrv`
(``AZMLINFSRV_CMD``) and waits until ``GET /`` answers; ``server.cli(*args)`` runs the CLI to
completion. Tests marked ``ours`` check behaviour where our server deliberately differs from
or goes beyond the reference; they are skipped when the reference is under test
(``AZMLINFSRV_REFERENCE=1``, or ``AZMLINFSRV_CMD`` naming the reference's console script).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server._support import ServerFactory, is_reference


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ours: behaviour where azmlinfsrv deliberately differs from or goes beyond the reference "
        "(skipped when AZMLINFSRV_REFERENCE=1)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not is_reference():
        return
    skip = pytest.mark.skip(reason="behaviour of our server only; the reference server is under test")
    for item in items:
        if "ours" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def server(tmp_path) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(scope="session")
def reference() -> bool:
    return is_reference()
