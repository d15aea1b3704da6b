"""``azmlinfsrv test``: the validation gate. Starts the real server on a free loopback
port, runs the sample-request cases (``azmlinfsrv.cases``) against it, reports, and
stops it again. See docs/validation.md."""
