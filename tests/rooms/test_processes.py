"""Debates across real `clonechats serve` processes on one data directory (one embedded
database): viewers on either process see the same live events, and a room whose process is
killed mid-turn is resumed by another process's jobs with exactly one turn per seq.

The servers' model is the OpenAI adapter talking to `FakeOpenAI` over loopback HTTP
(`tests/fakes/openai_loopback.py`); moderation is the real offline moderator.
"""

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import free_port, server_environment, wait_until_ready
from tests.fakes.openai_loopback import LoopbackOpenAI

PASSWORD = "a long and unusual passphrase"
WAIT_S = 180.0


@contextmanager
def serve(data_dir: Path, log: Path, extra: dict[str, str]) -> Iterator[tuple[str, Any]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**server_environment(data_dir), "CLONECHATS_ACCOUNTS__WELCOME_CREDITS": "100000",
           "CLONECHATS_ACCOUNTS__BCRYPT_ROUNDS": "4", "CLONECHATS_JOBS__POLL_SECONDS": "0.1",
           "CLONECHATS_ROOMS__VIEWER_POLL_SECONDS": "0.05",
           "CLONECHATS_ROOMS__RENEW_SECONDS": "0.2", **extra}
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "clonechats", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--data-dir", str(data_dir), "--dev"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=data_dir.parent)
    try:
        wait_until_ready(url, process, log)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


OPENED: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


def member(url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    OPENED.append(client)
    client.get("/")
    response = client.post("/api/v1/auth/signup", json={
        "email": email, "password": PASSWORD, "birth_date": "1990-01-01"},
        headers={"X-CSRF-Token": client.cookies["csrf_token"]})
    assert response.status_code == 201, response.text
    return client


def on(url: str, signed_in: httpx.Client) -> httpx.Client:
    """The same browser session, talking to another process."""
    other = httpx.Client(base_url=url, timeout=30)
    OPENED.append(other)
    for name in ("session", "csrf_token"):
        other.cookies.set(name, signed_in.cookies[name])
    return other


def post(client: httpx.Client, path: str, **kwargs: Any) -> httpx.Response:
    return client.post(path, headers={"X-CSRF-Token": client.cookies["csrf_token"]}, **kwargs)


def new_debate(client: httpx.Client, rounds: int) -> tuple[dict[str, Any], list[str]]:
    ids = []
    for name in ("Ada", "Bo"):
        made = post(client, "/api/v1/personas", json={"name": name, "traits": ["direct"],
                                                      "sliders": {}, "visibility": "private"})
        assert made.status_code == 201, made.text
        ids.append(made.json()["persona"]["id"])
    room = post(client, "/api/v1/rooms", json={
        "kind": "debate", "topic": "Should cities ban cars?", "persona_ids": ids,
        "rounds": rounds, "moderator": "auto"})
    assert room.status_code == 201, room.text
    return room.json()["room"], ids


class Viewer(threading.Thread):
    """Reads a room's SSE stream to its `end`, calling `on_event` with each event."""

    def __init__(self, client: httpx.Client, room_id: str, last_event_id: int | None = None,
                 on_event: Any = None) -> None:
        super().__init__(daemon=True)
        self.client, self.room_id, self.last = client, room_id, last_event_id
        self.on_event = on_event
        self.events: list[tuple[int, str, Any]] = []
        self.ended = False
        self.error: BaseException | None = None

    def run(self) -> None:
        headers = {"Last-Event-ID": str(self.last)} if self.last is not None else {}
        try:
            with self.client.stream("GET", f"/api/v1/rooms/{self.room_id}/events",
                                    headers=headers, timeout=WAIT_S) as response:
                assert response.status_code == 200
                block: dict[str, str] = {}
                for line in response.iter_lines():
                    if line:
                        key, _, value = line.partition(": ")
                        block[key] = value
                        continue
                    if block.get("event") == "end":
                        self.ended = True
                        return
                    if "id" in block:
                        event = (int(block["id"]), block["event"], json.loads(block["data"]))
                        self.events.append(event)
                        if self.on_event is not None:
                            self.on_event(event)
                    block = {}
        except BaseException as exc:  # reported by the test
            self.error = exc


def finish(viewer: Viewer) -> list[tuple[int, str, Any]]:
    viewer.join(WAIT_S)
    assert viewer.error is None, viewer.error
    assert viewer.ended, "the stream did not end"
    return viewer.events


def one_turn_per_seq(room: dict[str, Any], persona_ids: list[str], rounds: int) -> None:
    turns = room["turns"]
    assert [t["seq"] for t in turns] == list(range(1, len(turns) + 1))
    assert len({t["id"] for t in turns}) == len(turns)
    spoken = [(t["round"], t["speaker"]["persona_id"]) for t in turns if t["kind"] == "argument"]
    assert spoken == [(r, p) for r in range(1, rounds + 1) for p in persona_ids]
    assert all(t["status"] == "complete" for t in turns)


@pytest.fixture
def fake_openai() -> Iterator[LoopbackOpenAI]:
    with LoopbackOpenAI(chunk_delay=0.05) as fake:
        yield fake


def test_viewers_on_two_processes_see_the_same_live_debate(tmp_path: Path,
                                                          fake_openai: LoopbackOpenAI) -> None:
    data, log = tmp_path / "data", tmp_path / "servers.log"
    extra = fake_openai.environment()
    with serve(data, log, extra) as (first, _), serve(data, log, extra) as (second, _):
        owner = member(first, "owner@example.com")
        there = on(second, owner)
        room, ids = new_debate(owner, rounds=2)
        live_states: list[str] = []

        def check_live(event: tuple[int, str, Any]) -> None:
            if event[1] == "token" and not live_states:  # the first token: is it live?
                live_states.append(owner.get(f"/api/v1/rooms/{room['id']}").json()["room"][
                    "status"])

        here_viewer = Viewer(owner, room["id"])
        there_viewer = Viewer(there, room["id"], on_event=check_live)
        here_viewer.start()
        there_viewer.start()
        assert post(there, f"/api/v1/rooms/{room['id']}/start").status_code == 202
        seen_there = finish(there_viewer)
        seen_here = finish(here_viewer)

        assert seen_here == seen_there
        assert [e[0] for e in seen_there] == list(range(1, len(seen_there) + 1))
        assert live_states == ["running"]  # tokens reached the other process's viewer live
        names = [e[1] for e in seen_there]
        assert names[0] == "status" and "summary" in names and names[-1] == "status"
        room_here = owner.get(f"/api/v1/rooms/{room['id']}").json()["room"]
        room_there = there.get(f"/api/v1/rooms/{room['id']}").json()["room"]
        assert room_here == room_there and room_here["status"] == "finished"
        one_turn_per_seq(room_here, ids, rounds=2)

        middle = seen_there[len(seen_there) // 2][0]
        late = Viewer(there, room["id"], last_event_id=middle)
        late.start()
        assert finish(late) == [e for e in seen_there if e[0] > middle]


def test_a_killed_process_is_resumed_by_another(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "servers.log"
    with LoopbackOpenAI(chunk_delay=0.25) as fake:
        leases = {"CLONECHATS_JOBS__LEASE_SECONDS": "2", "CLONECHATS_ROOMS__LEASE_SECONDS": "2"}
        writer_env = {**fake.environment(), **leases}
        web_env = {**writer_env, "CLONECHATS_JOBS__RUN_IN_SERVER": "false"}
        with serve(data, log, web_env) as (web, _):
            with serve(data, log, writer_env) as (doomed_url, doomed):
                owner = member(web, "owner@example.com")
                room, ids = new_debate(owner, rounds=2)
                arguments: list[str] = []
                killed = threading.Event()

                def kill_mid_turn(event: tuple[int, str, Any]) -> None:
                    _, name, payload = event
                    if name == "turn" and payload.get("kind") == "argument":
                        arguments.append(payload["turn_id"])
                    if name == "token" and len(arguments) == 2 and not killed.is_set():
                        os.kill(doomed.pid, signal.SIGKILL)  # Bo is mid-sentence
                        killed.set()

                viewer = Viewer(owner, room["id"], on_event=kill_mid_turn)
                viewer.start()
                assert post(owner, f"/api/v1/rooms/{room['id']}/start").status_code == 202
                assert killed.wait(WAIT_S), "no second argument turn began"
                doomed.wait(timeout=30)
            cut = arguments[1]
            with serve(data, log, writer_env):
                events = finish(viewer)  # the viewer on the web process never noticed
            room = owner.get(f"/api/v1/rooms/{room['id']}").json()["room"]
        assert room["status"] == "finished", room
        one_turn_per_seq(room, ids, rounds=2)
        starts = [e for e in events if e[1] == "turn" and e[2]["turn_id"] == cut]
        assert [e[2]["attempt"] for e in starts] == [1, 2]  # the same turn, written again
        assert [e[0] for e in events] == list(range(1, len(events) + 1))
        assert doomed_url
