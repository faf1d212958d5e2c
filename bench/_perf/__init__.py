"""Child processes of `bench.perf`: each is run by path in a fresh interpreter, never imported by the gateway;
and `layer_host`, which builds the packages the handler children run on (imported by `bench.perf` itself).

They live in a sub-package so that `make bench` (which runs every `bench/*.py` module) does not run them alone.
"""
