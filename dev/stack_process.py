"""The local stack (`python -m dev.run_local`) in a child process, for fuzz and load runs (dev and tests only).

    with LocalStackProcess(env={"RETRY_MAX_ATTEMPTS": "2"}) as stack:
        httpx.get(f"{stack.url}/health")
        httpx.post(f"{stack.emulator_url}/__emulator/faults", json={...})

The child gets a minimal environment: no provider key, base URL, proxy or AWS endpoint of the caller's
shell comes through, so every provider is the emulator and all traffic stays on loopback. Its output
(the gateway's JSON log lines) goes to a temporary file, read back by `log_lines()`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from dev.lambda_runtime import REPO_ROOT

# Passed through from the caller's environment; everything else is left out.
_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "SYSTEMROOT", "VIRTUAL_ENV")
_BANNER_END = "curl -s -X DELETE"  # the last line run_local prints once everything is up
_API = re.compile(r"AI gateway running on (http://127\.0\.0\.1:(\d+)) ")
_EMULATOR = re.compile(r"provider emulator at (http://127\.0\.0\.1:\d+)\)")
_WEBSOCKET = re.compile(r"WebSocket API on (ws://127\.0\.0\.1:\d+) \(API key: (\S+)\)")
_MOTO = re.compile(r"moto at (http://127\.0\.0\.1:\d+);")


def free_port() -> int:
    """A TCP port on loopback that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalStackProcess:
    """Start moto, the provider emulator and the local API in a child process; stop them on exit."""

    def __init__(self, env: Mapping[str, str] | None = None, startup_timeout_s: float = 60.0) -> None:
        # Ports the child binds itself (port 0) and prints: a port picked here and bound there could be taken in
        # between by one of the child's own servers (moto, the emulator, the injector, the chat server).
        self.port = 0
        self.url = ""
        self.emulator_url = ""
        self.ws_port = 0
        self.ws_url = ""
        self.api_key = ""  # the local standard key, as the banner prints it
        self.moto_url = ""
        self._extra_env = dict(env or {})
        self._startup_timeout_s = startup_timeout_s
        self._log: IO[str] | None = None
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> Self:
        env = {name: os.environ[name] for name in _KEPT if name in os.environ}
        env.update({"PYTHONUNBUFFERED": "1", "NO_PROXY": "*", **self._extra_env})
        self._log = tempfile.NamedTemporaryFile("w+", prefix="local-stack-", suffix=".log")  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, "-m", "dev.run_local", "--host", "127.0.0.1", "--port", "0", "--ws-port", "0"],
            cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            text = self.output()
            found, api = _EMULATOR.search(text), _API.search(text)
            if found and api and _BANNER_END in text:
                self.emulator_url = found.group(1)
                self.url, self.port = api.group(1), int(api.group(2))
                websocket, moto = _WEBSOCKET.search(text), _MOTO.search(text)
                if websocket:
                    self.ws_url = websocket.group(1)
                    self.ws_port = int(websocket.group(1).rsplit(":", 1)[1])
                self.api_key = websocket.group(2) if websocket else ""
                self.moto_url = moto.group(1) if moto else ""
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        output = self.output()
        self.stop()
        raise RuntimeError(f"the local stack did not start:\n{output[-4000:]}")

    def output(self) -> str:
        """Everything the child printed so far (banner and log lines)."""
        if self._log is None:
            return ""
        return Path(self._log.name).read_text(errors="replace")

    def log_lines(self) -> list[str]:
        return self.output().splitlines()

    def stop(self) -> None:
        """SIGTERM (run_local stops its servers and pollers), then kill if it hangs."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
