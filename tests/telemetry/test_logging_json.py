"""The reference's own ``alternate`` logging.json style: formatter and filter named by their
``azureml_inference_server_http.log_config`` paths configure the format, in the arbiter
(gunicorn's messages) and in the workers."""

from __future__ import annotations

import json
import re

# As in the reference's tests (alternate_log_config.json): its formatter class with another format.
ALTERNATE = {
    "version": 1,
    "handlers": {
        "azmlinfsrv": {
            "class": "logging.StreamHandler",
            "level": "INFO",
            "stream": "ext://sys.stdout",
            "formatter": "azmlinfsrv",
        }
    },
    "formatters": {
        "azmlinfsrv": {
            "class": "azureml_inference_server_http.log_config.AMLLogFormatter",
            "format": "[%(levelname)s] [%(process)d] %(name)s %(asctime)s | %(message)s",
            "style": "%",
        }
    },
    "loggers": {
        "azmlinfsrv": {"level": "INFO", "handlers": ["azmlinfsrv"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["azmlinfsrv"], "filters": ["RootAccessFilter"]},
        "gunicorn.error": {"level": "INFO", "handlers": ["azmlinfsrv"]},
    },
    "filters": {"RootAccessFilter": {"()": "azureml_inference_server_http.log_config.RootAccessFilter"}},
}
DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"


def test_alternate_reference_logging_json(server):
    srv = server.start(
        None,
        files={
            "logging.json": json.dumps(ALTERNATE),
            "score.py": "def init():\n    pass\n\ndef run(data):\n    return data\n",
        },
    )
    srv.wait_for_log(re.compile(rf"^\[INFO\] \[\d+\] azmlinfsrv {DATE} \| Starting up app insights client$", re.M))
    srv.wait_for_log(
        re.compile(rf"^\[INFO\] \[\d+\] azmlinfsrv {DATE} \| Worker with pid \d+ ready for serving traffic$", re.M)
    )
    # The arbiter's gunicorn messages use the file's handler and format too.
    srv.wait_for_log(re.compile(rf"^\[INFO\] \[{srv.pid}\] gunicorn.error {DATE} \| Listening at: ", re.M))
    assert "Invalid logging.json" not in srv.logs()
    assert srv.score("x").status_code == 200
    srv.wait_for_log(re.compile(rf"^\[INFO\] \[\d+\] azmlinfsrv {DATE} \| POST /score 200 ", re.M))
