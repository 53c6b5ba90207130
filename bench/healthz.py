"""Requests per second of GET /healthz on Clone Chats next to a bare Starlette app, and of one
database read on the embedded engine (and on MongoDB when CLONECHATS_TEST_MONGODB_URL is set).

    .venv/bin/python bench/healthz.py [--requests 6000] [--concurrency 32]

Both servers run as real `uvicorn` processes on loopback ports, measured in the same run by the
same client, so the ratio says what our middleware (security headers, body limit, request id,
access log, metrics) and our /healthz itself (one bounded database read, the local models'
status) cost per request on this machine. Not a test: it only prints its figures.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BARE_STARLETTE = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def healthz(request):
    return JSONResponse({"status": "ok"})

app = Starlette(routes=[Route("/healthz", healthz)])
uvicorn.run(app, host="127.0.0.1", port={port}, access_log=False, log_level="warning")
"""

ROUNDS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def server(command: list[str], port: int, env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def check_with_httpx(url: str) -> None:
    """One ordinary client request first: the server answers correctly before it is timed."""
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/healthz")
        response.raise_for_status()
        # The bare app answers {"status": "ok"}; Clone Chats adds "database" and "models".
        assert response.json()["status"] == "ok"


async def requests_per_second(url: str, total: int, concurrency: int) -> float:
    """`concurrency` keep-alive connections sending GET /healthz one after another.

    A few lines of raw HTTP/1.1 instead of a full client library: on a small machine the
    client's own cost would otherwise hide the difference between the servers.
    """
    await check_with_httpx(url)
    host, port = url.removeprefix("http://").split(":")
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    remaining = total

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace"))
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)

    warmed = 0
    all_warm, start = asyncio.Event(), asyncio.Event()

    async def connection() -> None:
        nonlocal remaining, warmed
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for _ in range(5):
                await exchange(reader, writer)
            warmed += 1
            if warmed == concurrency:
                all_warm.set()
            await start.wait()
            while remaining > 0:
                remaining -= 1
                await exchange(reader, writer)
        finally:
            writer.close()
            await writer.wait_closed()

    tasks = [asyncio.create_task(connection()) for _ in range(concurrency)]
    await all_warm.wait()
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return total / (time.perf_counter() - started)


async def reads_per_second(url: str | None, data_dir: Path, total: int,
                           concurrency: int) -> float:
    """`find_one` by `_id` on a collection of 1,000 small documents."""
    from clonechats.storage import connect

    name = f"clonechats_bench_{secrets.token_hex(4)}"
    connection = await connect(url, data_dir=data_dir, name=name)
    try:
        collection = connection.db.bench_profiles
        await collection.insert_many(
            [{"_id": f"p{n}", "name": f"Persona {n}", "traits": ["kind", "curious"], "n": n}
             for n in range(1000)]
        )
        remaining = total

        async def worker(offset: int) -> None:
            nonlocal remaining
            n = offset
            while remaining > 0:
                remaining -= 1
                n = (n + 7919) % 1000
                found = await collection.find_one({"_id": f"p{n}"})
                assert found is not None and found["n"] == n

        started = time.perf_counter()
        await asyncio.gather(*(worker(offset) for offset in range(concurrency)))
        return total / (time.perf_counter() - started)
    finally:
        if connection.engine == "mongodb":
            await connection.db.client.drop_database(name)
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("CLONECHATS_")}
    print(f"# {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {args.requests} requests, {args.concurrency} concurrent")
    with tempfile.TemporaryDirectory(prefix="clonechats-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        ours_port, bare_port = free_port(), free_port()
        ours_cmd = [sys.executable, "-m", "clonechats", "serve", "--host", "127.0.0.1",
                    "--port", str(ours_port), "--data-dir", str(data_dir)]
        bare_cmd = [sys.executable, "-c", BARE_STARLETTE.replace("{port}", str(bare_port))]
        # Both servers stay up and are measured in alternating rounds, so a change in the
        # machine's load during the run affects both alike; each figure is the median round.
        per_round = max(1, args.requests // ROUNDS)
        rounds: dict[str, list[float]] = {"bare": [], "ours": []}
        with server(bare_cmd, bare_port, env) as bare_url, \
                server(ours_cmd, ours_port, env) as ours_url:
            for _ in range(ROUNDS):
                for label, url in (("bare", bare_url), ("ours", ours_url)):
                    rounds[label].append(
                        asyncio.run(requests_per_second(url, per_round, args.concurrency))
                    )
        bare, ours = statistics.median(rounds["bare"]), statistics.median(rounds["ours"])
        print(f"GET /healthz  bare Starlette  {bare:8.0f} req/s")
        print(f"GET /healthz  Clone Chats     {ours:8.0f} req/s   "
              f"ratio {ours / bare:.2f} of bare")

        reads = 2 * args.requests
        embedded = asyncio.run(reads_per_second(None, Path(scratch) / "reads", reads,
                                                args.concurrency))
        print(f"find_one by _id  embedded     {embedded:8.0f} reads/s")
        mongodb_url = os.environ.get("CLONECHATS_TEST_MONGODB_URL")
        if mongodb_url:
            mongodb = asyncio.run(reads_per_second(mongodb_url, Path(scratch), reads,
                                                   args.concurrency))
            print(f"find_one by _id  MongoDB      {mongodb:8.0f} reads/s")
        else:
            print("find_one by _id  MongoDB      skipped (CLONECHATS_TEST_MONGODB_URL not set)")


if __name__ == "__main__":
    main()
