"""The interpreter and packages that `bench.perf` runs the handler processes on (used by the parent, not a child).

Lambda starts a function with its runtime's Python, the layer in /opt/python and the runtime's boto3, nothing
else. The project's dev virtualenv has much more (rich, pygments, moto, pytest, ...), and some packages import
what they find: `import httpx` imports `httpx._main`, which imports rich and pygments when they are installed.
So the handler processes run on a mirror of the layer built for this machine, `bench/.layer-host`:

- `python/`: the layer's packages, built by `make -C layers/providers host-packages` (the layer's pinned
  requirements as wheels for this interpreter's version and platform, less the Makefile's DROP, compiled);
  the built layer's arm64 wheels cannot be imported here. The gateway is not in it: the handler processes
  put the working tree's `layers/providers` first on `sys.path` (`dev.lambda_runtime.use_layer`).
- `runtime/`: boto3 at the version pinned in requirements-dev.txt, compiled. The Lambda Python runtime provides
  boto3 (and botocore, s3transfer and their dependencies) outside the layer, after /opt/python on its path.

Both are compiled (unchecked-hash `.pyc`, like the layer's) when built, so a cold start does not compile them.
The children run as `python -S` (no site-packages at all) with PYTHONPATH = python/, runtime/ and the repo root
(for `bench._perf.*` and `dev.lambda_runtime`, standard library only). The mirror is rebuilt when the layer's
requirements, its Makefile, the boto3 pin or the interpreter change; if it cannot be built (no package index),
the handlers run in the dev virtualenv, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYER_SOURCE = REPO_ROOT / "layers" / "providers"
MAKEFILE = LAYER_SOURCE / "Makefile"
REQUIREMENTS = LAYER_SOURCE / "requirements.txt"
DEV_REQUIREMENTS = REPO_ROOT / "requirements-dev.txt"
MIRROR = REPO_ROOT / "bench" / ".layer-host"
MIRROR_LAYER = MIRROR / "python"  # what /opt/python is in Lambda
MIRROR_RUNTIME = MIRROR / "runtime"  # the Lambda runtime's boto3
STAMP = MIRROR / "built.json"  # written last: what the mirror was built from
INSTALL_TIMEOUT_S = 1200


@dataclass(frozen=True)
class HandlerPython:
    """How `bench.perf` starts a handler process, and what to say about it in the report."""

    python: str
    flags: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    description: str = ""
    layer: Path | None = None  # the mirror's layer folder; None in the dev virtualenv


def dev_venv(reason: str = "") -> HandlerPython:
    why = f" ({reason})" if reason else ""
    return HandlerPython(
        sys.executable,
        description=f"the dev virtualenv's interpreter and site-packages{why}: dev-only packages inflate it",
    )


def boto3_pin() -> str:
    """The boto3 version pinned in requirements-dev.txt (the dev stand-in for the Lambda runtime's)."""
    found = re.search(r"^boto3==(\S+)", DEV_REQUIREMENTS.read_text(), re.MULTILINE)
    if not found:
        raise RuntimeError(f"no boto3==<version> in {DEV_REQUIREMENTS.relative_to(REPO_ROOT)}")
    return found[1]


def dropped() -> list[str]:
    """The Makefile's DROP: distributions the layer leaves out."""
    found = re.search(r"^DROP := (.+)$", MAKEFILE.read_text(), re.MULTILINE)
    return found[1].split() if found else []


def base_python() -> str:
    """The interpreter the project's venv was made from (same version, without the venv's site-packages)."""
    return str(getattr(sys, "_base_executable", "") or sys.executable)


def _key(python: str, boto3: str) -> str:
    digest = hashlib.sha256()
    parts = (REQUIREMENTS.read_bytes(), MAKEFILE.read_bytes(), boto3.encode(), python.encode(), sys.version.encode())
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _run(command: Sequence[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        raise RuntimeError(f"`{' '.join(command[:4])} ...` failed:\n    " + "\n    ".join(lines[-8:]))


def _uncompiled(root: Path) -> list[Path]:
    """Sources under root without this interpreter's `.pyc` beside them."""
    tag = sys.implementation.cache_tag
    return [
        path
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts and not (path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").is_file()
    ]


def _build(python: str, boto3: str, key: str) -> None:
    shutil.rmtree(MIRROR, ignore_errors=True)
    MIRROR.mkdir(parents=True)
    # No PYTHONPATH/PYTHONHOME/virtualenv leaking into pip: it installs for `python` itself.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MAKEFLAGS"}}
    make = shutil.which("make")
    if make is None:
        raise RuntimeError("`make` not found on PATH")
    _run([make, "-C", str(LAYER_SOURCE), "host-packages", f"PYTHON={python}", f"LAYER_PYTHON={MIRROR_LAYER}"], env)
    # The Lambda runtime provides boto3, outside the layer: the dev pin, installed apart, behind the layer on the path.
    pip = [python, "-m", "pip", "install", "-qq", "--disable-pip-version-check", "--no-input"]
    pip += ["--root-user-action=ignore", "--no-compile", "--no-warn-script-location", "--only-binary=:all:"]
    _run([*pip, "--target", str(MIRROR_RUNTIME), f"boto3=={boto3}"], env)
    shutil.rmtree(MIRROR_RUNTIME / "bin", ignore_errors=True)
    compileall = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    _run([*compileall, str(MIRROR_RUNTIME)], env)
    missing = _uncompiled(MIRROR)
    if missing:
        raise RuntimeError(f"{len(missing)} modules without a .pyc, e.g. {missing[0].relative_to(MIRROR)}")
    STAMP.write_text(json.dumps({"key": key, "python": python, "boto3": boto3}) + "\n")


def ensure_layer_host() -> HandlerPython:
    """The handler processes' interpreter on the layer's mirror, built (on the first run or after a change)
    if needed; the dev virtualenv, with a printed warning, if it cannot be built."""
    python = base_python()
    try:
        boto3 = boto3_pin()
        key = _key(python, boto3)
        built = json.loads(STAMP.read_text()) if STAMP.is_file() else {}
        if built.get("key") != key:
            print(
                f"building the layer's packages for this machine into {os.path.relpath(MIRROR, REPO_ROOT)}"
                " (first run, or the requirements, Makefile, boto3 pin or Python changed) ...",
                flush=True,
            )
            _build(python, boto3, key)
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        print(
            "  WARNING: could not build the layer's packages for this machine; the handler processes run in the"
            f" dev virtualenv instead, whose dev-only packages inflate cold starts and RSS:\n    {error}",
            flush=True,
        )
        return dev_venv("the layer's mirror could not be built")
    drop = ", ".join(dropped()) or "none"
    return HandlerPython(
        python,
        flags=("-S",),
        env={"PYTHONPATH": os.pathsep.join(str(path) for path in (MIRROR_LAYER, MIRROR_RUNTIME, REPO_ROOT))},
        description=(
            f"fresh `{Path(python).name} -S` (no site-packages) with the layer's packages (host build of"
            f" layers/providers/requirements.txt less DROP: {drop}) + boto3 {boto3} (the Lambda runtime's)"
            " + the working tree's gateway"
        ),
        layer=MIRROR_LAYER,
    )
