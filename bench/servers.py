"""The processes `chat_overhead.py` runs and watches: start one and wait until it answers, follow
its resident memory, wait until it is idle, and start Open WebUI from a virtualenv.

Not a benchmark of its own. Memory is read from `/proc` (Linux): VmRSS of the process and its
descendants, polled by a thread, so the peak within a level is known; VmHWM is each process's
own peak since it started.
"""

import asyncio
import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(path: Path, lines: int = 5) -> str:
    with contextlib.suppress(OSError):
        text = path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])
    return ""


@contextlib.contextmanager
def process(command: list[str], ready_url: str, env: dict[str, str], log: Path, *,
            cwd: Path | None = None, wait_s: float = 60) -> Iterator[subprocess.Popen]:
    """Run `command` (output to `log`) until `ready_url` answers 200; stop it on leaving."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter, scripts and paths
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{Path(command[0]).name} exited with {proc.returncode}: "
                                   f"{_tail(log)}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{Path(command[0]).name} did not answer {ready_url} "
                                   f"within {wait_s:.0f} s: {_tail(log)}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _status_kb(pid: int, field: str) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (read from /proc/*/stat)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, todo = [pid], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(children)
        todo.extend(children)
    return found


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` and its descendants now, MiB."""
    return sum(_status_kb(p, "VmRSS") for p in descendants(pid)) / 1024


def hwm_mib(pid: int) -> float:
    """The highest resident memory `pid` itself has had since it started (VmHWM), MiB."""
    return _status_kb(pid, "VmHWM") / 1024


class RssWatch:
    """Polls the resident memory of named processes (with their descendants) every `every_s`
    in a thread; `reset()` starts a new window and `peak(name)` is its highest sum, MiB."""

    def __init__(self, every_s: float = 0.1) -> None:
        self.every_s = every_s
        self.pids: dict[str, int] = {}
        self.tree: dict[str, list[int]] = {}
        self.peaks: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="rss-watch", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        with self.lock:
            self.pids[name] = pid
        self.reset()

    def reset(self) -> None:
        with self.lock:
            for name, pid in self.pids.items():
                self.tree[name] = descendants(pid)
                self.peaks[name] = 0.0
        self._sample()

    def peak(self, name: str) -> float | None:
        self._sample()
        with self.lock:
            return self.peaks.get(name) or None

    def _sample(self) -> None:
        with self.lock:
            for name, tree in self.tree.items():
                now = sum(_status_kb(pid, "VmRSS") for pid in tree) / 1024
                self.peaks[name] = max(self.peaks.get(name, 0.0), now)

    def _run(self) -> None:
        while not self.stopping.wait(self.every_s):
            self._sample()

    def __enter__(self) -> "RssWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of `pid` and its descendants so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in descendants(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


async def wait_idle(pid: int, *, below: float = 0.05, window_s: float = 0.5,
                    most_s: float = 120) -> float:
    """Wait until `pid` (with descendants) uses under `below` of one core over `window_s`, at
    most `most_s`; return the seconds waited (background work after the last reply)."""
    started = time.perf_counter()
    before = cpu_seconds(pid)
    while time.perf_counter() - started < most_s:
        await asyncio.sleep(window_s)
        now = cpu_seconds(pid)
        if now - before < below * window_s:
            return max(0.0, time.perf_counter() - started - window_s)
        before = now
    return time.perf_counter() - started


class Skipped(Exception):
    """Open WebUI is not measured; the message says why."""


def open_webui_command(venv: Path, port: int) -> list[str]:
    """How to run `open-webui serve` from the virtualenv at `venv`, or Skipped."""
    if not venv.is_dir():
        raise Skipped(f"{venv} is not a directory")
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    launcher = venv / "bin" / "open-webui"
    if launcher.is_file():
        return [str(launcher), *serve]
    python = venv / "bin" / "python"
    if not python.is_file():
        raise Skipped(f"neither {launcher} nor {python} exists")
    probe = subprocess.run(  # noqa: S603 - the interpreter the operator named
        [str(python), "-c", "import importlib.util as u, sys; "
         "sys.exit(0 if u.find_spec('open_webui') else 1)"], capture_output=True, timeout=60,
        check=False)
    if probe.returncode != 0:
        raise Skipped(f"open_webui is not installed in {venv}")
    return [str(python), "-c", "import sys, open_webui; sys.argv[0] = 'open-webui'; "
            "open_webui.app()", *serve]


def open_webui_env(base_env: dict[str, str], fake_url: str, data_dir: Path) -> dict[str, str]:
    """Open WebUI's defaults, but: no sign-in, no Ollama, its one OpenAI connection the fake
    server, a fresh data folder, and nothing fetched from the internet."""
    return {**base_env, "DATA_DIR": str(data_dir), "WEBUI_AUTH": "False",
            "WEBUI_SECRET_KEY": "bench-" + "k" * 32, "ENABLE_OLLAMA_API": "False",
            "ENABLE_OPENAI_API": "True", "OPENAI_API_BASE_URL": f"{fake_url}/v1",
            "OPENAI_API_KEY": "sk-bench", "OFFLINE_MODE": "True", "HF_HUB_OFFLINE": "1",
            "RAG_EMBEDDING_MODEL_AUTO_UPDATE": "False",
            "RAG_RERANKING_MODEL_AUTO_UPDATE": "False", "WHISPER_MODEL_AUTO_UPDATE": "False",
            "ENABLE_VERSION_UPDATE_CHECK": "False", "SCARF_NO_ANALYTICS": "true",
            "DO_NOT_TRACK": "true", "ANONYMIZED_TELEMETRY": "false"}


def open_webui_token(url: str, model: str, wait_s: float = 60) -> str:
    """Sign in to an Open WebUI running with WEBUI_AUTH=False (its one admin account) and wait
    until it lists `model` from its OpenAI connection; return the bearer token, or Skipped."""
    try:
        signin = httpx.post(f"{url}/api/v1/auths/signin", timeout=30,
                            json={"email": "admin@localhost", "password": "admin"})
        signin.raise_for_status()
        token = signin.json()["token"]
        deadline = time.monotonic() + wait_s
        while True:
            listed = httpx.get(f"{url}/api/models", timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
            listed.raise_for_status()
            ids = [m.get("id") for m in listed.json().get("data") or []]
            if model in ids:
                return token
            if time.monotonic() > deadline:
                raise Skipped(f"it does not list {model} (it lists {ids[:5]})")
            time.sleep(1)
    except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
        raise Skipped(f"signing in or listing models failed: {type(exc).__name__} "
                      f"{str(exc)[:200]}") from exc
