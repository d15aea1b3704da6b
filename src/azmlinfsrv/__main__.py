"""``python -m azmlinfsrv`` is the ``azmlinfsrv`` command."""

from .cli import main

main()
