#!/usr/bin/env bash
# Validate, lint and build the SAM template without touching AWS or Docker.
#   1. sam validate --lint     (SAM transform + cfn-lint through SAM)
#   2. cfn-lint                (errors, warnings and informational findings: any finding fails)
#   3. sam build               (into .aws-sam/; the layer by layers/providers/Makefile: arm64 wheels
#                               with `pip install --platform ..._aarch64`, compiled to python3.12 bytecode)
#   4. the built layer          (native code all aarch64; a python3.12 .pyc for every module, current and
#                               mtime-independent; within the size targets)
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

# sam build needs a python3.12 on PATH for the python3.12 runtime (and the layer's Makefile runs it).
PYTHON312="$("${SCRIPT_DIR}/python312.sh")"
export PATH="$(dirname "${PYTHON312}"):${PATH}"

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
  echo "check_template: sam build needs python3.12 on PATH (see scripts/python312.sh)" >&2
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
layer_kb="$(du -sk --apparent-size "${LAYER_DIR}" | cut -f1)"
echo "Layer (unzipped, apparent size): $(du -sh --apparent-size "${LAYER_DIR}" | cut -f1)  ($(find "${LAYER_DIR}" -type f | wc -l) files, $(find "${LAYER_DIR}" -name '*.so*' -type f | wc -l) native, all aarch64)"
if (( layer_kb > 250 * 1024 )); then
  echo "check_template: layer exceeds Lambda's 250 MB unzipped limit" >&2
  exit 1
fi

# The layer ships bytecode (/opt is read-only in Lambda: a module without a .pyc is compiled again at every
# cold start). Run by python3.12, the runtime's version: every .py (every gateway module among them) has its
# __pycache__/*.cpython-312.pyc with python3.12's magic number, unchecked-hash (the zip keeps no mtimes) and
# the hash of the source beside it (not stale). And the layer, bytecode included, stays within the size
# targets of bench/perf.py: 70 MiB unzipped, 25 MiB zipped (deflate, as sam deploy zips it).
LAYER_CHECK="$(cat <<'PY'
import importlib.util, sys, tempfile, zipfile
from pathlib import Path

assert sys.version_info[:2] == (3, 12), f"needs python3.12, not {sys.version}"
layer = Path(sys.argv[1])
root = layer / "python"
MIB = 1024 * 1024
UNZIPPED_MAX_MIB, ZIPPED_MAX_MIB = 70.0, 25.0
problems = []
sources = sorted(path for path in root.rglob("*.py") if "__pycache__" not in path.parts)
gateway = [path for path in sources if path.relative_to(root).parts[0] == "gateway"]
compiled = {"all": 0, "gateway": 0}
for source in sources:
    relative = source.relative_to(root)
    pyc = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
    if not pyc.is_file():
        problems.append(f"no {sys.implementation.cache_tag} .pyc for {relative}")
        continue
    head = pyc.read_bytes()[:16]
    if head[:4] != importlib.util.MAGIC_NUMBER:
        problems.append(f"{relative}: .pyc magic {head[:4].hex()} is not python3.12's")
    elif int.from_bytes(head[4:8], "little") != 0b01:
        problems.append(f"{relative}: .pyc is not unchecked-hash (flags {head[4:8].hex()})")
    elif head[8:16] != importlib.util.source_hash(source.read_bytes()):
        problems.append(f"{relative}: .pyc does not match its source")
    else:
        compiled["all"] += 1
        compiled["gateway"] += relative.parts[0] == "gateway"
if not gateway:
    problems.append("no gateway package in the layer")
files = sorted(path for path in layer.rglob("*") if path.is_file())
unzipped = sum(path.stat().st_size for path in files) / MIB
with tempfile.TemporaryFile() as handle:
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(layer).as_posix())
    zipped = handle.seek(0, 2) / MIB
print(
    f"Layer bytecode: {compiled['all']} of {len(sources)} modules have a current python3.12 .pyc"
    f" (gateway: {compiled['gateway']} of {len(gateway)});"
    f" with it {unzipped:.1f} MiB unzipped, {zipped:.1f} MiB zipped"
)
if unzipped > UNZIPPED_MAX_MIB or zipped > ZIPPED_MAX_MIB:
    problems.append(f"layer over {UNZIPPED_MAX_MIB:g} MiB unzipped or {ZIPPED_MAX_MIB:g} MiB zipped")
for problem in problems[:20]:
    print(f"  {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
)"
step "layer bytecode and size" python3.12 -c "${LAYER_CHECK}" "${LAYER_DIR}"
echo "check_template: OK in $(elapsed "${T_ALL}") s"
