"""Tests of `azmlinfsrv test` (the validation gate) and of azmlinfsrv.cases."""
