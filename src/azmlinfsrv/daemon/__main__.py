"""``python -m azmlinfsrv.daemon``: the language daemon over stdio."""

import logging
import sys

from .lsp_server import create

# stdout carries the LSP stream: our own logs go to stderr.
# The client files each line under its level (the VS Code extension's log channel filters them).
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
logging.getLogger("azmlinfsrv.daemon").setLevel(logging.INFO)
create().start_io()
