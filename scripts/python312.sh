#!/usr/bin/env bash
# Print the path of a CPython 3.12 interpreter: the Lambda runtime's version (python3.12), on which the gateway is
# developed, tested and benchmarked, and its layer compiled. Exits 1 with how to get one when there is none.
#   PY=/path/to/python3.12 overrides the search.
set -euo pipefail

is_312() { [[ -x "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }

candidates=()
[[ -n "${PY:-}" ]] && candidates+=("$(command -v "${PY}" || echo "${PY}")")
if command -v python3.12 >/dev/null 2>&1; then candidates+=("$(command -v python3.12)"); fi
if command -v pyenv >/dev/null 2>&1; then
  root="$(pyenv root)"
  for dir in "${root}"/versions/3.12*; do candidates+=("${dir}/bin/python3.12"); done
fi
candidates+=(/usr/bin/python3.12 /usr/local/bin/python3.12 "${HOME}/.local/bin/python3.12")

for candidate in "${candidates[@]}"; do
  # A pyenv shim answers for every version it knows: ask it for the real path of a 3.12 it can run.
  if is_312 "${candidate}"; then
    "${candidate}" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
cat >&2 <<'MSG'
python3.12 not found. The gateway runs on AWS Lambda's python3.12 runtime, and is developed, tested and
benchmarked on the same Python. Install it, for example:
  pyenv install 3.12        (then `make` finds it under $(pyenv root)/versions)
  uv python install 3.12    (then PY=$(uv python find 3.12) make ...)
  apt-get install python3.12 python3.12-venv
or point at one: PY=/path/to/python3.12 make ...
MSG
exit 1
