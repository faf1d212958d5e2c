#!/usr/bin/env bash
# Validate, lint and build the SAM template without touching AWS or Docker.
#   1. sam validate --lint     (SAM transform + cfn-lint through SAM)
#   2. cfn-lint                (errors, warnings and informational findings: any finding fails)
#   3. sam build               (into .aws-sam/; arm64 wheels for the layer are fetched by
#                               aws-lambda-builders with `pip download --platform ..._aarch64`)
# Exits non-zero on the first failing step. Set SAM_BUILD_CACHED=0 to force a clean build.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
cd "${REPO_ROOT}"

TEMPLATE="template.yaml"
VENV_SAM="${REPO_ROOT}/.venv-sam"
BUILD_DIR="${REPO_ROOT}/.aws-sam/build"

# Never reach AWS: dummy region and credentials, no telemetry, no prompts.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
unset AWS_PROFILE AWS_ENDPOINT_URL
export SAM_CLI_TELEMETRY=0 SAM_CLI_DISABLE_TELEMETRY_PROMPT=1 CI="${CI:-true}"

# sam build needs a python3.12 on PATH for the python3.12 runtime (pyenv here).
if command -v pyenv >/dev/null 2>&1; then
  export PYENV_VERSION="${SAM_PYENV_VERSION:-3.11.7:3.12.1}"
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
step() {  # step <name> <command...>
  local name="$1" t0 rc=0
  shift
  echo "==> ${name}"
  t0="$(now)"
  "$@" </dev/null || rc=$?
  echo "<== ${name}: $(elapsed "${t0}") s (exit ${rc})"
  if [[ ${rc} -ne 0 ]]; then
    echo "check_template: ${name} failed" >&2
    exit "${rc}"
  fi
}

T_ALL="$(now)"

step "setup .venv-sam" "${SCRIPT_DIR}/setup_sam.sh"
SAM="${VENV_SAM}/bin/sam"
CFN_LINT="${VENV_SAM}/bin/cfn-lint"

if ! command -v python3.12 >/dev/null 2>&1 || ! python3.12 -c 'import sys' >/dev/null 2>&1; then
  echo "check_template: sam build needs python3.12 on PATH (set SAM_PYENV_VERSION or install it)" >&2
  exit 1
fi

step "sam validate --lint" "${SAM}" validate --lint --template "${TEMPLATE}"
step "cfn-lint" "${CFN_LINT}" --include-checks I -- "${TEMPLATE}"

build_args=(build --template "${TEMPLATE}" --build-dir "${BUILD_DIR}" --parallel)
if [[ "${SAM_BUILD_CACHED:-1}" == "1" ]]; then
  build_args+=(--cached --cache-dir "${REPO_ROOT}/.aws-sam/cache")
fi
step "sam build" "${SAM}" "${build_args[@]}"

LAYER_DIR="${BUILD_DIR}/ProvidersLayer"
if [[ ! -d "${LAYER_DIR}/python" ]]; then
  echo "check_template: built layer not found at ${LAYER_DIR}/python" >&2
  exit 1
fi
# Every native extension in the layer must be built for the Lambda architecture (arm64).
foreign="$(find "${LAYER_DIR}" -name '*.so*' -type f -print0 \
  | xargs -0 -r file | grep -v -E 'aarch64|ARM aarch64' || true)"
if [[ -n "${foreign}" ]]; then
  echo "check_template: non-arm64 native code in the layer:" >&2
  echo "${foreign}" >&2
  exit 1
fi
layer_kb="$(du -sk "${LAYER_DIR}" | cut -f1)"
echo "Layer (unzipped): $(du -sh "${LAYER_DIR}" | cut -f1)  ($(find "${LAYER_DIR}" -type f | wc -l) files, $(find "${LAYER_DIR}" -name '*.so*' -type f | wc -l) native, all aarch64)"
if (( layer_kb > 250 * 1024 )); then
  echo "check_template: layer exceeds Lambda's 250 MB unzipped limit" >&2
  exit 1
fi
echo "check_template: OK in $(elapsed "${T_ALL}") s"
