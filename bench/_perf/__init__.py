"""Child processes of `bench.perf`: each is run by path in a fresh interpreter, never imported by the gateway.

They live in a sub-package so that `make bench` (which runs every `bench/*.py` module) does not run them alone.
"""
