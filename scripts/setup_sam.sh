#!/usr/bin/env bash
# Create (or reuse) the repo-local SAM CLI virtualenv at <repo>/.venv-sam.
# SAM CLI pins click and other libraries that clash with the project's dev tools,
# so it lives in its own venv. Idempotent, non-interactive, quiet; safe under CI=true.
set -euo pipefail

SAM_CLI_VERSION="1.170.0"
CFN_LINT_VERSION="1.58.0"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
VENV="${REPO_ROOT}/.venv-sam"
PYTHON="${SAM_PYTHON:-$("${SCRIPT_DIR}/python312.sh")}"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

have() {
  "${VENV}/bin/python" - "$@" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
wanted = dict(arg.split("==") for arg in sys.argv[1:])
sys.exit(0 if all(version(n) == v for n, v in wanted.items()) else 1)
PY
}

if ! "${VENV}/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null \
    && [[ -z "${SAM_PYTHON:-}" ]]; then
  rm -rf "${VENV}"
fi
if [[ ! -x "${VENV}/bin/python" ]]; then
  "${PYTHON}" -m venv "${VENV}"
fi

if have "aws-sam-cli==${SAM_CLI_VERSION}" "cfn-lint==${CFN_LINT_VERSION}"; then
  echo "setup_sam: ${VENV} already has aws-sam-cli ${SAM_CLI_VERSION}, cfn-lint ${CFN_LINT_VERSION}"
  exit 0
fi

"${VENV}/bin/python" -m pip install -qq --upgrade pip </dev/null
"${VENV}/bin/python" -m pip install -qq \
  "aws-sam-cli==${SAM_CLI_VERSION}" "cfn-lint==${CFN_LINT_VERSION}" </dev/null

"${VENV}/bin/sam" --version
"${VENV}/bin/cfn-lint" --version
