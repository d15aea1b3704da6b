"""Runs the daemon, the scoring server or the debug adapter with the libraries the .vsix carries.

    <the user's python> launch.py daemon|server|adapter [ARGS...]

The extension ships azmlinfsrv (``../app``) and its dependencies (``../libs``, built by
``bundled/build.py``) and runs them with the user's interpreter: nothing is installed there.

- ``daemon``, ``adapter``: our tools. Our package and the bundled libraries come before the
  environment's site-packages, so pygls, psutil and debugpy are the versions we tested,
  whatever the environment holds.
- ``server``: runs the user's score.py. Our package comes first (the daemon and the server
  it starts must speak the same protocol, even where the environment has another
  azmlinfsrv); the bundled libraries come *after* site-packages, so the environment's own
  flask, numpy... win, and the bundled ones only fill what it lacks. Before anything is
  imported, ``azmlinfsrv.bundle`` checks that the packages so chosen fit together.

Kept to old syntax on purpose: an interpreter older than 3.10 must still get a clear message.
"""

import os
import runpy
import sys

MIN_PYTHON = (3, 10)
TOOL = os.path.dirname(os.path.abspath(__file__))
BUNDLE = os.path.dirname(TOOL)
APP = os.path.join(BUNDLE, "app")
LIBS = os.path.join(BUNDLE, "libs")
BUNDLE_ENV = "AZMLINFSRV_BUNDLE"  # tells the daemon to start its servers through this launcher
MODULES = {"daemon": "azmlinfsrv.daemon", "server": "azmlinfsrv", "adapter": "debugpy.adapter"}
ERROR_EXIT = 3  # the server's own code for a start-up failure


def fail(message, code=ERROR_EXIT):
    sys.stderr.write("azmlinfsrv: error: " + message + "\n")
    sys.exit(code)


def environment_path():
    """sys.path without this script's folder (Python put it first; nothing there is for import)."""
    return [p for p in sys.path if os.path.abspath(p or os.curdir) != TOOL]


def main():
    if sys.version_info < MIN_PYTHON:
        have, need = "%d.%d" % tuple(sys.version_info[:2]), "%d.%d" % MIN_PYTHON  # noqa: UP031
        fail(f"azmlinfsrv needs Python {need} or newer; {sys.executable} is Python {have}")
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    if role not in MODULES:
        fail("usage: launch.py daemon|server|adapter [ARGS...]", 2)
    if not os.path.isdir(LIBS) or not os.path.isdir(APP):
        fail("the bundled libraries are missing from " + BUNDLE + " (build them with bundled/build.py)")
    rest = environment_path()
    if role == "server":
        # As `python -m azmlinfsrv` would: the working directory is importable.
        sys.path[:] = [APP, os.getcwd()] + rest + [LIBS]
        os.environ.pop(BUNDLE_ENV, None)
        from azmlinfsrv import bundle

        problem = bundle.check_environment(LIBS)
        if problem:
            fail(problem)
    else:
        sys.path[:] = [APP, LIBS] + rest
        os.environ[BUNDLE_ENV] = BUNDLE
    sys.argv = [sys.argv[0]] + sys.argv[2:]
    runpy.run_module(MODULES[role], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
