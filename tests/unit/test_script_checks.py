"""script.py's static checks (the daemon's diagnostics) and the run() signature contract."""

from __future__ import annotations

import pytest

from azmlinfsrv.script import (
    MSG_BAD_PARAM_KIND,
    MSG_NO_INPUT,
    MSG_ONLY_HEADERS,
    MSG_RAW_AND_SCHEMA,
    Problem,
    check_source,
    defines_init_and_run,
    is_server_frame,
    missing_function_message,
)

GOOD = "def init():\n    pass\n\n\ndef run(data):\n    return data\n"


def codes(source: str) -> list[str]:
    return [p.code for p in check_source(source, "score.py")]


def test_a_good_script_has_no_problems():
    assert check_source(GOOD, "score.py") == []


def test_a_syntax_error_is_placed_at_its_line():
    [problem] = check_source("def init():\n    pass\n\ndef run(data:\n", "score.py")
    assert problem.code == "syntax-error"
    assert problem.message.startswith("SyntaxError: ")
    assert problem.line == 4


def test_null_bytes_are_a_syntax_error_not_a_crash():
    assert codes("def init():\x00 pass") == ["syntax-error"]


def test_missing_functions_mark_the_first_line():
    problems = check_source("import os\n", "score.py")
    assert problems == [
        Problem(missing_function_message("score.py", "init"), 1, 0, 1, 9, "missing-init"),
        Problem(missing_function_message("score.py", "run"), 1, 0, 1, 9, "missing-run"),
    ]
    assert codes("") == ["missing-init", "missing-run"]


def test_functions_bound_by_assignment_or_import_count():
    assert codes("from helpers import init\nrun = lambda data: data\n") == []


def test_a_driver_module_skips_the_checks():
    assert codes("import driver as driver_module\n") == []


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("def run(*args):", MSG_BAD_PARAM_KIND),
        ("def run(data, /):", MSG_BAD_PARAM_KIND),
        ("def run(**kwargs):", MSG_BAD_PARAM_KIND),
        ("def run():", MSG_NO_INPUT),
        ("def run(request_headers):", MSG_ONLY_HEADERS),
        ("async def run():", MSG_NO_INPUT),
    ],
)
def test_run_signatures_that_break_the_contract(signature, message):
    [problem] = check_source(f"def init():\n    pass\n\n{signature}\n    pass\n", "score.py")
    assert (problem.code, problem.message, problem.line, problem.column) == ("run-signature", message, 4, 0)
    assert problem.end_column == (13 if signature.startswith("async") else 7)


def test_keyword_only_inputs_and_headers_are_fine():
    assert codes("def init():\n    pass\n\ndef run(*, data, request_headers):\n    pass\n") == []


def test_rawhttp_with_input_schema_marks_the_first_decorator():
    source = "def init():\n    pass\n\n@rawhttp\n@input_schema('data', x)\ndef run(data):\n    pass\n"
    [problem] = check_source(source, "score.py")
    assert (problem.code, problem.message) == ("rawhttp-and-schema", MSG_RAW_AND_SCHEMA)
    assert (problem.line, problem.column, problem.end_column) == (4, 0, 8)


def test_defines_init_and_run():
    assert defines_init_and_run(GOOD)
    assert not defines_init_and_run("def run(data): pass\n")
    assert not defines_init_and_run("def (")


def test_server_frames_are_told_from_user_frames():
    import azmlinfsrv.views

    assert is_server_frame(azmlinfsrv.views.__file__)
    assert not is_server_frame("/home/user/project/score.py")
