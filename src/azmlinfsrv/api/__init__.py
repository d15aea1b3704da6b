"""The classes and decorators score.py imports (also reachable under the reference's
``azureml.contrib.services.*`` and ``azureml_inference_server_http.api.*`` names)."""
