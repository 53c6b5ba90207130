"""An S3 API on a loopback port for the S3 media store's tests: moto's standalone server
(`moto[server]`, a dev-only dependency), started by the first test that asks and stopped when
the session ends. Each caller gets a bucket of its own."""

import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from clonechats.settings import MediaSettings

SERVER_COMMAND = "moto_server"
ACCESS_KEY, SECRET_KEY, REGION = "test-access-key", "test-secret-key", "us-east-1"


class _Server:
    def __init__(self) -> None:
        self.url: str | None = None
        self.failure: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = shutil.which(SERVER_COMMAND, path=str(Path(sys.executable).parent))
        if command is None:
            self.failure = f"`{SERVER_COMMAND}` (the dev extra's moto[server]) is not installed"
            return
        from tests.mongodb_server import free_port

        port = free_port()
        self._process = subprocess.Popen(  # noqa: S603 - the dev extra's own server
            [command, "-H", "127.0.0.1", "-p", str(port)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                httpx.get(url + "/moto-api/", timeout=0.5)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            self.url = url
            return
        self.failure = "moto_server did not start"
        self.stop()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None


_server = _Server()


def url() -> str:
    if _server.url is None and _server.failure is None:
        _server.start()
    if _server.url is None:
        pytest.skip(_server.failure or "no S3 server")
    return _server.url


def new_bucket() -> str:
    """Creates an empty bucket on the test server and returns its name."""
    name = f"media-{secrets.token_hex(6)}"
    response = request("PUT", f"/{name}")
    response.raise_for_status()
    return name


def request(method: str, path: str, **kwargs: object) -> httpx.Response:
    """A plain request to the test server's S3 API (as another client would make it)."""
    return httpx.request(method, f"{url()}{path}", headers=_anonymous_auth(), **kwargs)


def media_settings(bucket: str, **overrides: object) -> MediaSettings:
    values: dict[str, object] = {
        "backend": "s3", "s3_bucket": bucket, "s3_endpoint_url": url(), "s3_region": REGION,
        "s3_access_key_id": ACCESS_KEY, "s3_secret_access_key": SECRET_KEY,
    }
    values.update(overrides)
    return MediaSettings(**values)


def stop() -> None:
    _server.stop()


def _anonymous_auth() -> dict[str, str]:
    # moto accepts any credentials; a minimal SigV4-looking header keeps it in S3 mode
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/{REGION}/s3/"
                             "aws4_request, SignedHeaders=host, Signature=0"}
