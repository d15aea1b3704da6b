"""The trivial score.py of the benchmark: run() returns its input, so what is measured is the server."""


def init() -> None:
    pass


def run(raw_data: str) -> str:
    return raw_data
