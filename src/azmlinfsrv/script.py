"""Loading score.py and checking its contract.

The rules on ``init``/``run`` live here once, written over a neutral description of
run's parameters, so the server's loader (which inspects the imported function) and
the editor daemon's static checks (which read the source with ``ast``, without running
it) always agree.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

logger = logging.getLogger("azmlinfsrv.user_script")

ENTRY_MODULE_NAME = "entry_module"

# Parameter kinds, named as inspect.Parameter.kind.name in lower case.
POSITIONAL_ONLY = "positional_only"
POSITIONAL_OR_KEYWORD = "positional_or_keyword"
VAR_POSITIONAL = "var_positional"
KEYWORD_ONLY = "keyword_only"
VAR_KEYWORD = "var_keyword"

MSG_BAD_PARAM_KIND = "run() cannot accept positional-only arguments, *args, or **kwargs."
MSG_ONLY_HEADERS = 'run() needs to accept an argument other than "request_headers".'
MSG_NO_INPUT = "run() needs to accept an argument for input data."
MSG_RAW_AND_SCHEMA = "run() cannot be decorated with both @rawhttp and @input_schema"


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    has_default: bool = False


class ScriptNotFound(FileNotFoundError):
    """The entry script's path names no file."""


class ScriptContractError(Exception):
    """score.py breaks the contract (missing init/run, a bad run signature...).

    ``location`` (file, line, function) points at the offending definition, for the
    event channel and the editor's diagnostics.
    """

    def __init__(self, message: str, file: str, line: int = 1, function: str = "<module>") -> None:
        super().__init__(message)
        self.location = {"file": os.path.abspath(file), "line": line, "function": function}


def check_run_params(params: Sequence[Param]) -> str | None:
    """The contract on run()'s signature; returns the violation's message or None."""
    if any(p.kind not in (POSITIONAL_OR_KEYWORD, KEYWORD_ONLY) for p in params):
        return MSG_BAD_PARAM_KIND
    inputs = [p for p in params if p.name != "request_headers"]
    if not inputs:
        return MSG_ONLY_HEADERS if len(inputs) != len(params) else MSG_NO_INPUT
    return None


def check_decorators(raw: bool, schema: bool) -> str | None:
    return MSG_RAW_AND_SCHEMA if raw and schema else None


def missing_function_message(path: str, name: str) -> str:
    return f"User script at {path} does not have a {name}() function defined."


# ---------------------------------------------------------------------------
# Static checks (no user code runs): used by the editor daemon.


@dataclass(frozen=True)
class Problem:
    message: str
    line: int  # 1-based
    column: int  # 0-based
    end_line: int
    end_column: int
    code: str


def _params_of(args: ast.arguments) -> list[Param]:
    params = [Param(a.arg, POSITIONAL_ONLY) for a in args.posonlyargs]
    params += [Param(a.arg, POSITIONAL_OR_KEYWORD) for a in args.args]
    if args.vararg:
        params.append(Param(args.vararg.arg, VAR_POSITIONAL))
    params += [Param(a.arg, KEYWORD_ONLY) for a in args.kwonlyargs]
    if args.kwarg:
        params.append(Param(args.kwarg.arg, VAR_KEYWORD))
    return params


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _module_bindings(tree: ast.Module) -> dict[str, ast.AST]:
    """Names bound at module level (def, assignment, import), last binding wins."""
    bound: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound[(alias.asname or alias.name).split(".")[0]] = node
    return bound


def defines_init_and_run(source: str) -> bool:
    """Whether a module defines both init and run at module level (cheap, no errors)."""
    try:
        bound = _module_bindings(ast.parse(source))
    except (SyntaxError, ValueError):
        return False
    return "init" in bound and "run" in bound


def check_source(source: str, path: str) -> list[Problem]:
    """Every contract problem visible in score.py's source, without running it."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as ex:
        line = ex.lineno or 1
        column = max((ex.offset or 1) - 1, 0)
        return [Problem(f"SyntaxError: {ex.msg}", line, column, line, column + 1, "syntax-error")]
    except ValueError as ex:  # e.g. null bytes
        return [Problem(f"SyntaxError: {ex}", 1, 0, 1, 1, "syntax-error")]

    problems: list[Problem] = []
    bound = _module_bindings(tree)
    if "driver_module" in bound:
        return problems  # run() comes from another module: nothing more to see here
    first_line_end = len(source.splitlines()[0]) if source.strip() else 0
    for name in ("init", "run"):
        if name not in bound:
            problems.append(Problem(missing_function_message(path, name), 1, 0, 1, first_line_end, f"missing-{name}"))
    run = bound.get("run")
    if isinstance(run, (ast.FunctionDef, ast.AsyncFunctionDef)):
        line, col = run.lineno, run.col_offset
        name_end = col + len("def run") + (6 if isinstance(run, ast.AsyncFunctionDef) else 0)
        message = check_run_params(_params_of(run.args))
        if message:
            problems.append(Problem(message, line, col, line, name_end, "run-signature"))
        names = {_decorator_name(d) for d in run.decorator_list}
        message = check_decorators("rawhttp" in names, "input_schema" in names)
        if message:
            deco = run.decorator_list[0]
            # The range starts at the "@", one column before the decorator's expression.
            start = max(deco.col_offset - 1, 0)
            end = deco.end_col_offset or deco.col_offset + 1
            problems.append(
                Problem(message, deco.lineno, start, deco.end_lineno or deco.lineno, end, "rawhttp-and-schema")
            )
    return problems


# ---------------------------------------------------------------------------
# Loading and checking the imported script: used by the server.

InputMode = Literal["raw", "schema", "plain"]


@dataclass
class UserScript:
    path: str
    module: ModuleType
    init: Callable[[], Any]
    run: Callable[..., Any]
    mode: InputMode
    input_name: str
    inputs: list[inspect.Parameter] = field(default_factory=list)
    wants_headers: bool = False

    def call_run(self, kwargs: dict[str, Any], headers: Callable[[], dict[str, str]]) -> Any:
        if self.wants_headers:
            return self.run(**kwargs, request_headers=headers())
        return self.run(**kwargs)


def _definition_line(func: Any) -> int:
    try:
        return inspect.getsourcelines(inspect.unwrap(func))[1]
    except (OSError, TypeError):
        return 1


def _raw_requested(run: Callable[..., Any]) -> bool:
    """@rawhttp from our shim or from a real azureml package, which flag themselves."""
    if getattr(run, "__azmlinfsrv_rawhttp__", False):
        return True
    for name in (
        "azmlinfsrv.api.aml_request",
        "azureml.contrib.services.aml_request",
        "azureml_inference_server_http.api.aml_request",
    ):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "_rawHttpRequested", False):
            return True
    return False


def _schema_decorated(run: Callable[..., Any]) -> bool:
    try:
        from inference_schema.schema_util import is_schema_decorated
    except ImportError:
        return False
    try:
        return bool(is_schema_decorated(run))
    except Exception:
        return False


def import_script(entry_script: str | None, app_root: str) -> ModuleType:
    """Import score.py from its path (relative to the app root), or ``main`` from sys.path."""
    if not entry_script:
        import main  # type: ignore[import-not-found]  # noqa: PLC0415

        return main  # type: ignore[no-any-return]
    path = os.path.join(app_root, entry_script.replace("/", os.sep))
    spec = importlib.util.spec_from_file_location(ENTRY_MODULE_NAME, path)
    if spec is None or spec.loader is None or not os.path.isfile(path):
        raise ScriptNotFound(f"No such file or directory: {path!r}")
    module = importlib.util.module_from_spec(spec)
    # Registered so that dataclasses, pickle and typing can find the module by name.
    sys.modules[ENTRY_MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(ENTRY_MODULE_NAME, None)
        raise
    return module


def analyze(module: ModuleType) -> UserScript:
    """Check the imported module against the contract and decide how run() is called."""
    path = getattr(module, "__file__", None) or "<unknown>"
    for name in ("init", "run"):
        if not hasattr(module, name):
            raise ScriptContractError(missing_function_message(path, name), path)
    run = _find_run(module, path)
    run_file = inspect.getsourcefile(inspect.unwrap(run)) or path if callable(run) else path
    try:
        signature = inspect.signature(run)
    except (TypeError, ValueError) as ex:
        raise ScriptContractError(f"run() is not a function that can be called: {ex}", path) from None
    params = list(signature.parameters.values())
    message = check_run_params([Param(p.name, p.kind.name.lower(), p.default is not p.empty) for p in params])
    if message:
        raise ScriptContractError(message, run_file, _definition_line(run), "run")
    inputs = [p for p in params if p.name != "request_headers"]
    raw, schema = _raw_requested(run), _schema_decorated(run)
    message = check_decorators(raw, schema)
    if message:
        raise ScriptContractError(message, run_file, _definition_line(run), "run")
    return UserScript(
        path=path,
        module=module,
        init=module.init,
        run=run,
        mode=_input_mode(raw, schema, inputs),
        input_name=inputs[0].name,
        inputs=inputs,
        wants_headers=len(inputs) != len(params),
    )


def _find_run(module: ModuleType, path: str) -> Any:
    """run() of the script, or of its ``driver_module`` when a generated driver wraps the user's score.py."""
    driver = getattr(module, "driver_module", None)
    if isinstance(driver, ModuleType) and hasattr(driver, "run"):
        logger.info(f"Found driver script at {path} and the score script at {getattr(driver, '__file__', '')}")
        return driver.run
    logger.info(f"Found user script at {path}")
    return module.run


def _input_mode(raw: bool, schema: bool, inputs: list[inspect.Parameter]) -> InputMode:
    """How run() receives the request, said in the log as the reference says it."""
    if raw:
        logger.info("run() is decorated with @rawhttp. Server will invoke it with the flask request object.")
        return "raw"
    if schema:
        logger.info(
            "run() is decorated with @input_schema. Server will invoke it with the following arguments: "
            f"{', '.join(p.name for p in inputs)}."
        )
        return "schema"
    logger.info("run() is not decorated. Server will invoke it with the input in JSON string.")
    return "plain"


def modules_under(roots: Iterable[str | None]) -> list[tuple[str, ModuleType]]:
    """Loaded modules whose file is under one of ``roots``: the user's own code (score.py's
    helpers), not libraries, even when a virtual environment lives inside those folders."""
    prefixes = tuple(os.path.join(os.path.abspath(root), "") for root in roots if root)
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.abspath(path).startswith(prefixes):
            if not any(part in path for part in ("site-packages", "dist-packages")):
                found.append((name, module))
    return found


def format_user_traceback(ex: BaseException) -> str:
    """The traceback of ``ex`` as users read it: from their first frame on, without the
    server's own frames or the import machinery's above it."""
    frames = user_frames_only(traceback.extract_tb(ex.__traceback__))
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(ex), ex)
    return "".join(lines).rstrip()


_SERVER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def is_server_frame(filename: str) -> bool:
    """A frame of the server's own code or of the import machinery, not of the user's."""
    return filename.startswith(_SERVER_DIR) or filename.startswith("<frozen")


def user_frames_only(frames: Iterable[Any]) -> list[Any]:
    """Drop the leading frames that belong to the server or the import machinery."""
    frames = list(frames)
    for i, frame in enumerate(frames):
        if not is_server_frame(frame.filename):
            return frames[i:]
    return frames
