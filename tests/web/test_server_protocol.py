"""The server `clonechats serve` runs, started for real on a free port (a tiny ASGI app):
slow request heads are cut off, one address cannot hold too many connections, and a shutdown
with a stream still open finishes after the graceful period instead of hanging."""

import asyncio
from contextlib import asynccontextmanager

import uvicorn

from clonechats.settings import ServerSettings, Settings
from clonechats.web.server_protocol import guarded_protocol, uvicorn_options


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/forever":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
            await asyncio.sleep(0.05)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@asynccontextmanager
async def running(server_settings: ServerSettings, graceful: float | None = None):
    config = uvicorn.Config(hello, host="127.0.0.1", port=0, lifespan="off", log_level="error",
                            http=guarded_protocol(server_settings),
                            timeout_graceful_shutdown=graceful)
    server = uvicorn.Server(config)
    config.load()
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    port = server.servers[0].sockets[0].getsockname()[1]

    async def run_then_shut_down() -> None:  # what `Server.serve` does after starting up
        await server.main_loop()
        await server.shutdown()

    task = asyncio.create_task(run_then_shut_down())
    try:
        yield server, task, port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def get(port, head: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return data


async def test_a_slow_request_head_is_closed_and_a_whole_one_answered():
    async with running(ServerSettings(header_timeout_seconds=0.2)) as (_server, _task, port):
        whole = await get(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert whole.startswith(b"HTTP/1.1 200") and b"\r\nok\r\n" in whole
        trickled = await get(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        assert trickled == b""  # closed without an answer


async def test_one_address_cannot_hold_more_than_its_share_of_connections():
    async with running(ServerSettings(max_connections_per_address=2,
                                      header_timeout_seconds=5)) as (_server, _task, port):
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        extra_reader, extra_writer = await asyncio.open_connection("127.0.0.1", port)
        extra_writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await asyncio.wait_for(extra_reader.read(), 10) == b""
        for _reader, writer in [*held, (extra_reader, extra_writer)]:
            writer.close()
            await writer.wait_closed()


async def test_shutdown_with_an_open_stream_ends_after_the_graceful_period():
    async with running(ServerSettings(), graceful=0.3) as (server, task, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        server.should_exit = True  # what SIGTERM does
        await asyncio.wait_for(task, 10)  # it does not wait for the endless stream
        writer.close()
        await writer.wait_closed()


def test_serve_uses_the_guarded_protocol_and_a_bounded_graceful_shutdown():
    options = uvicorn_options(Settings(_env_file=None))
    assert options["timeout_graceful_shutdown"] < 30
    assert options["http"].header_timeout == 10.0
