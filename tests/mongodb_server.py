"""The MongoDB server the test suite runs its MongoDB cases against.

`CLONECHATS_TEST_MONGODB_URL` names one (a real `mongod`, a replica set, Atlas) when set.
Otherwise the first test that asks starts a throwaway SecantusDB server (PyPI `secantusdb`, a
single-node server speaking MongoDB's wire protocol over WiredTiger; GPL-2.0, a dev-only
dependency that the app never imports) on a free loopback port with its files in a temporary
directory, and `stop()` ends it when the session finishes. Only when neither is possible do the
MongoDB cases skip, saying why.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

import pytest
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import PyMongoError

URL_VARIABLE = "CLONECHATS_TEST_MONGODB_URL"
SERVER_COMMAND = "secantusd-py"
START_TIMEOUT_SECONDS = 30.0


class _Server:
    def __init__(self) -> None:
        self.url: str | None = None
        self.failure: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._directory: Path | None = None
        self._log: BinaryIO | None = None

    def start(self) -> None:
        command = shutil.which(SERVER_COMMAND, path=str(Path(sys.executable).parent))
        command = command or shutil.which(SERVER_COMMAND)
        if command is None:
            self.failure = (f"{URL_VARIABLE} is not set and `{SERVER_COMMAND}` (the dev extra's "
                            "secantusdb) is not installed: install `.[dev]` or name a server")
            return
        self._directory = Path(tempfile.mkdtemp(prefix="clonechats-mongodb-"))
        port = free_port()
        self._log = (self._directory / "server.log").open("wb")
        self._process = subprocess.Popen(  # noqa: S603 - the dev extra's own server
            [command, "--host", "127.0.0.1", "--port", str(port),
             "--storage-path", str(self._directory / "data"), "--log-level", "WARNING"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        url = f"mongodb://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if _answers(url):
                self.url = url
                return
            time.sleep(0.1)
        self.failure = (f"the test MongoDB server ({SERVER_COMMAND}) did not start: see "
                        f"{self._directory / 'server.log'}")
        self.stop()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._directory is not None and self.url is not None:
            shutil.rmtree(self._directory, ignore_errors=True)


_server = _Server()


def url() -> str:
    """The server to test against; skips the calling test when there is none."""
    configured = os.environ.get(URL_VARIABLE, "").strip()
    if configured:
        return configured
    if _server.url is None and _server.failure is None:
        _server.start()
    if _server.url is None:
        pytest.skip(_server.failure or "no MongoDB server")
    return _server.url


async def drop_database(server_url: str | None, name: str) -> None:
    """Drops a test database (with a client of its own: the app's may be closed by now)."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(server_url)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


def stop() -> None:
    _server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    with contextlib.suppress(PyMongoError, OSError):
        client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=300)
        try:
            client.admin.command("ping")
            return True
        finally:
            client.close()
    return False
