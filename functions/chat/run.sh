#!/bin/bash
# The chat function's start-up command in Lambda: the AWS Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap)
# runs it, waits until AWS_LWA_READINESS_CHECK_PATH answers, and forwards every invocation to it over HTTP, streaming
# the answer back (AWS_LWA_INVOKE_MODE=response_stream). The layer's packages (uvicorn, FastAPI, the gateway) are in
# /opt/python, the function's app.py in the task root.
set -euo pipefail
cd "${LAMBDA_TASK_ROOT:-/var/task}"
export PYTHONPATH="/opt/python:${LAMBDA_TASK_ROOT:-/var/task}${PYTHONPATH:+:${PYTHONPATH}}"
exec python -m uvicorn app:asgi --host 127.0.0.1 --port "${AWS_LWA_PORT:-8000}" \
  --no-access-log --log-level warning --timeout-graceful-shutdown 2
