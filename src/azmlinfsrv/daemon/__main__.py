"""``python -m azmlinfsrv.daemon``: the language daemon over stdio."""

import logging
import sys

from .lsp_server import create

# stdout carries the LSP stream: our own logs go to stderr.
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
create().start_io()
