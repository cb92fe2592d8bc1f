"""Starting and stopping real app processes for the tests that talk to them over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

EXE = str(Path(sys.executable).parent / "assistant")


def app_env(settings, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of an app process over `settings`' corpus and index, storing into `data_dir`."""
    return {
        **os.environ,
        "INDEX_DIR": str(settings.index_dir),
        "CORPUS_DIR": str(settings.corpus_dir),
        "DATA_DIR": str(data_dir),
        **extra,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(env: dict[str, str], port: int, log: Path | None = None) -> subprocess.Popen:
    """`assistant serve` on 127.0.0.1:port, returned once /api/health answers (fails the test otherwise).

    With `log`, the server writes its output to that file (a pipe nobody reads would fill up); `stop` returns it.
    """
    out = log.open("w", encoding="utf-8") if log else subprocess.PIPE
    proc = subprocess.Popen(
        [EXE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc.log_path = log  # type: ignore[attr-defined]
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {read_log(proc)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail(f"server did not start within 180 s: {read_log(proc)[-2000:]}")


def read_log(proc: subprocess.Popen) -> str:
    """What the server has logged so far (only for servers started with a log file, or after it exited)."""
    path = getattr(proc, "log_path", None)
    if path is not None:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    return proc.stdout.read() if proc.stdout and proc.poll() is not None else ""


def stop(proc: subprocess.Popen) -> str:
    """Stop the server and return what it logged."""
    proc.terminate()
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    return read_log(proc) if getattr(proc, "log_path", None) else output or ""
