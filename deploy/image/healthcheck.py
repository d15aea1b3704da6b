"""The image's HEALTHCHECK: GET / (the liveness route) answers 200 within 2 seconds.

Standard library only, and no proxy: the server is on this container's loopback. The port is
the one the server listens for health on: 5001, or 5000 with SEPERATE_HEALTH_ENDPOINT=true.
"""

import os
import sys
import urllib.request

TIMEOUT_SECONDS = 2.0


def main() -> int:
    port = 5000 if os.environ.get("SEPERATE_HEALTH_ENDPOINT") == "true" else 5001
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/", timeout=TIMEOUT_SECONDS) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as ex:  # URLError, HTTPError, timeouts
        print(f"GET http://127.0.0.1:{port}/: {ex}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
