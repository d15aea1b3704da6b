"""A real LSP client (pytest-lsp) over stdio against the real daemon, which starts real
azmlinfsrv processes. Each test gets a fresh daemon and a fresh project folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from ..server._support import clean_env
from .lsp_values import plain as _plain  # noqa: F401  (tests import _plain and wait_for from here)
from .lsp_values import wait_for  # noqa: F401

STATUS = "azmlinfsrv/status"
LOG = "azmlinfsrv/log"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "azmlinfsrv.daemon"], server_env=clean_env()),
)
async def client(lsp_client: LanguageClient, project: Path):
    lsp_client.statuses: list[dict[str, Any]] = []  # type: ignore[misc]
    lsp_client.logs: list[str] = []  # type: ignore[misc]

    @lsp_client.feature(STATUS)
    def on_status(params: Any) -> None:
        lsp_client.statuses.append(_plain(params))

    @lsp_client.feature(LOG)
    def on_log(params: Any) -> None:
        lsp_client.logs.append(_plain(params)["text"])

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True),
                text_document=types.TextDocumentClientCapabilities(
                    publish_diagnostics=types.PublishDiagnosticsClientCapabilities(related_information=True)
                ),
            ),
            root_uri=project.as_uri(),
            initialization_options={"reloadOnSave": True},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def execute(client: LanguageClient, command: str, args: dict[str, Any] | None = None) -> Any:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[args or {}])
    )
    return _plain(result)


def open_document(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=path.read_text())
        )
    )
    return uri


_versions: dict[str, int] = {}


def save_document(client: LanguageClient, path: Path, text: str) -> str:
    """Write the file as an editor would on save: didChange, then the file on disk, then didSave."""
    uri = path.as_uri()
    version = _versions.get(uri, 1) + 1
    _versions[uri] = version
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    path.write_text(text)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    return uri


async def stop_client(lsp: LanguageClient) -> None:
    """Stop a client a test started itself; its daemon process is killed if it does not exit."""
    import asyncio

    server = lsp._server
    try:
        await asyncio.wait_for(lsp.stop(), 15)
    except asyncio.TimeoutError:
        if server is not None and server.returncode is None:
            server.kill()
        raise
