"""Static diagnostics: every contract rule, at the right line and column, without running code."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_lsp import LanguageClient

from .conftest import open_document, wait_for

CASES = [
    # (source, expected message, line (0-based), start column, end column, code)
    ("def init():\n    pass\n\ndef run(data:\n", "SyntaxError: ", 3, None, None, "syntax-error"),
    ("def run(data):\n    return data\n", "does not have a init() function defined.", 0, 0, None, "missing-init"),
    ("def init():\n    pass\n", "does not have a run() function defined.", 0, 0, None, "missing-run"),
    (
        "def init():\n    pass\n\n\ndef run(*args):\n    pass\n",
        "run() cannot accept positional-only arguments, *args, or **kwargs.",
        4,
        0,
        7,
        "run-signature",
    ),
    (
        "def init():\n    pass\n\ndef run(data, **kwargs):\n    pass\n",
        "run() cannot accept positional-only arguments, *args, or **kwargs.",
        3,
        0,
        7,
        "run-signature",
    ),
    (
        "def init():\n    pass\n\ndef run(data, /):\n    pass\n",
        "run() cannot accept positional-only arguments, *args, or **kwargs.",
        3,
        0,
        7,
        "run-signature",
    ),
    (
        "def init():\n    pass\n\ndef run(request_headers):\n    pass\n",
        'run() needs to accept an argument other than "request_headers".',
        3,
        0,
        7,
        "run-signature",
    ),
    (
        "def init():\n    pass\n\ndef run():\n    pass\n",
        "run() needs to accept an argument for input data.",
        3,
        0,
        7,
        "run-signature",
    ),
    (
        "from azureml.contrib.services.aml_request import rawhttp\n"
        "from inference_schema.schema_decorators import input_schema\n"
        "def init():\n    pass\n\n"
        "@input_schema('data', None)\n@rawhttp\ndef run(data):\n    pass\n",
        "run() cannot be decorated with both @rawhttp and @input_schema",
        5,
        0,
        27,
        "rawhttp-and-schema",
    ),
]


@pytest.mark.parametrize("source,message,line,start,end,code", CASES, ids=[c[-1] + str(i) for i, c in enumerate(CASES)])
async def test_each_contract_rule_is_a_diagnostic(
    client: LanguageClient,
    project: Path,
    source: str,
    message: str,
    line: int,
    start: int | None,
    end: int | None,
    code: str,
) -> None:
    path = project / "score.py"
    path.write_text(source)
    uri = open_document(client, path)
    diagnostics = await wait_for(lambda: client.diagnostics.get(uri), 10, "diagnostics")
    assert len(diagnostics) == 1, diagnostics
    d = diagnostics[0]
    assert message in d.message
    assert d.source == "azmlinfsrv"
    assert d.code == code
    assert d.range.start.line == line
    if start is not None:
        assert d.range.start.character == start
    if end is not None:
        assert d.range.end.character == end


async def test_syntax_error_points_at_the_offending_column(client: LanguageClient, project: Path) -> None:
    path = project / "my_score.py"
    path.write_text("def init():\n    pass\n\ndef run(data):\n    return data +* 2\n")
    uri = open_document(client, path)
    [d] = await wait_for(lambda: client.diagnostics.get(uri), 10, "diagnostics")
    assert d.message.startswith("SyntaxError: invalid syntax")
    assert (d.range.start.line, d.range.start.character) == (4, 17)  # the "*"


async def test_a_good_script_and_a_non_scoring_module_have_no_diagnostics(
    client: LanguageClient, project: Path
) -> None:
    good = project / "score.py"
    good.write_text("def init():\n    pass\n\ndef run(data, request_headers):\n    return data\n")
    helper = project / "helpers.py"
    helper.write_text("def run():\n    pass\n")  # not a scoring script: no rules apply
    bad = project / "other_score.py"
    bad.write_text("def init():\n    pass\n")
    open_document(client, good)
    open_document(client, helper)
    bad_uri = open_document(client, bad)
    await wait_for(lambda: client.diagnostics.get(bad_uri), 10, "diagnostics of the bad file")
    assert not client.diagnostics.get(good.as_uri())
    assert not client.diagnostics.get(helper.as_uri())


async def test_a_module_defining_init_and_run_is_checked_whatever_its_name(
    client: LanguageClient, project: Path
) -> None:
    path = project / "main.py"
    path.write_text("def init():\n    pass\n\ndef run(*inputs):\n    pass\n")
    uri = open_document(client, path)
    [d] = await wait_for(lambda: client.diagnostics.get(uri), 10, "diagnostics")
    assert d.code == "run-signature"
