"""The language daemon (``python -m azmlinfsrv.daemon``): supervises azmlinfsrv for an editor.

Needs the ``daemon`` extra (pygls, lsprotocol, psutil, debugpy); the server itself never
imports this package.
"""
