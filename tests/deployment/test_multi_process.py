"""A scale-out deployment for real: two `clonechats serve` processes and two `clonechats worker`
processes, each with a data directory of its own (as on separate machines), sharing one
MongoDB-wire database (SecantusDB, or the server CLONECHATS_TEST_MONGODB_URL names), media on an
S3 API (moto's server) and an OpenAI-compatible model server that streams slowly.

Shown: a session made on one web process works on the other; a stop asked of one process ends a
reply streaming from the other; 200 jobs all run, with one worker killed mid-way, and their effect
happens once each; a webhook delivered to both web processes at once grants its credits once.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from clonechats.clock import Clock
from clonechats.jobs.service import enqueue
from clonechats.mail.service import EMAIL_SEND, message_payload
from clonechats.providers.email.base import EmailMessage
from clonechats.storage import connect
from tests import mongodb_server, s3_server
from tests.e2e.conftest import wait_until_ready
from tests.mongodb_server import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long and unusual passphrase"
REPLY_TOKENS, TOKEN_DELAY_MS = 600, 25  # a reply that streams for ~15 s unless stopped


@dataclass
class Deployment:
    web: list[str]
    workers: list[subprocess.Popen[bytes]]
    db: Any  # a synchronous PyMongo handle on the shared database
    database_url: str
    database_name: str
    bucket: str
    logs: Path

    def log_text(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.logs.glob("*.log")))


def start(command: list[str], *, env: dict[str, str], log: Path,
          cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,  # noqa: S603
                                stdin=subprocess.DEVNULL, env=env, cwd=cwd)


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deployment")
    database_url, name = mongodb_server.url(), f"deploy_{secrets.token_hex(6)}"
    bucket = s3_server.new_bucket()
    model_port = free_port()
    processes = [start([sys.executable, str(ROOT / "bench" / "fake_openai_server.py"),
                        "--port", str(model_port), "--tokens", str(REPLY_TOKENS),
                        "--delay-ms", str(TOKEN_DELAY_MS)],
                       env=dict(os.environ), log=root / "model.log", cwd=root)]
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLONECHATS_")}
    base.update({
        "CLONECHATS_DATABASE_URL": database_url, "CLONECHATS_DATABASE_NAME": name,
        "CLONECHATS_SECRET_KEY": "deployment-test-secret-" + "k" * 32,
        "CLONECHATS_DEV_MODE": "1", "CLONECHATS_LOG_JSON": "1",
        "CLONECHATS_ACCOUNTS__BCRYPT_ROUNDS": "4", "CLONECHATS_ACCOUNTS__WELCOME_CREDITS": "0",
        "CLONECHATS_MEDIA__BACKEND": "s3", "CLONECHATS_MEDIA__S3_BUCKET": bucket,
        "CLONECHATS_MEDIA__S3_ENDPOINT_URL": s3_server.url(),
        "CLONECHATS_MEDIA__S3_ACCESS_KEY_ID": s3_server.ACCESS_KEY,
        "CLONECHATS_MEDIA__S3_SECRET_ACCESS_KEY": s3_server.SECRET_KEY,
        "CLONECHATS_LLM__OPENAI_API_KEY": "sk-deployment",
        "CLONECHATS_LLM__OPENAI_BASE_URL": f"http://127.0.0.1:{model_port}/v1",
        "CLONECHATS_LLM__OPENAI_MODELS": '["bench-model"]',
        "CLONECHATS_LLM__DEFAULT_MODEL": "openai:bench-model",
        "CLONECHATS_JOBS__LEASE_SECONDS": "3", "CLONECHATS_JOBS__POLL_SECONDS": "0.2",
        "CLONECHATS_JOBS__BACKOFF_BASE_SECONDS": "0.5",
    })
    web: list[str] = []
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for number in (1, 2):
            port, home = free_port(), root / f"web{number}"
            env = {**base, "CLONECHATS_DATA_DIR": str(home / "data")}
            home.mkdir()
            url = f"http://127.0.0.1:{port}"
            log = root / f"web{number}.log"
            processes.append(start([sys.executable, "-m", "clonechats", "serve", "--host",
                                    "127.0.0.1", "--port", str(port), "--dev"],
                                   env=env, log=log, cwd=home))
            wait_until_ready(url, processes[-1], log)
            web.append(url)
        for number in (1, 2):
            home = root / f"worker{number}"
            home.mkdir()
            env = {**base, "CLONECHATS_DATA_DIR": str(home / "data")}
            workers.append(start([sys.executable, "-m", "clonechats", "worker"], env=env,
                                 log=root / f"worker{number}.log", cwd=home))
        processes.extend(workers)
        client: MongoClient[dict[str, Any]] = MongoClient(database_url, tz_aware=True)
        try:
            yield Deployment(web=web, workers=workers, db=client[name],
                             database_url=database_url, database_name=name, bucket=bucket,
                             logs=root)
        finally:
            client.drop_database(name)
            client.close()
    finally:
        stop_all(processes)


def csrf(http: httpx.Client) -> dict[str, str]:
    return {"X-CSRF-Token": http.cookies.get("csrf_token", "")}


def sign_up(http: httpx.Client, url: str, email: str) -> dict[str, Any]:
    http.get(f"{url}/")
    response = http.post(f"{url}/api/v1/auth/signup", headers=csrf(http), json={
        "email": email, "password": PASSWORD, "birth_date": "1990-01-01"})
    assert response.status_code == 201, response.text
    return response.json()["user"]


def grant(deployment: Deployment, user_id: str, credits: int) -> None:
    deployment.db.users.update_one({"_id": user_id}, {"$inc": {"credits": credits}})


def test_a_session_from_one_web_process_works_on_the_other(deployment: Deployment) -> None:
    first, second = deployment.web
    with httpx.Client() as http:
        user = sign_up(http, first, "roaming@example.com")
        me = http.get(f"{second}/api/v1/auth/me")
        assert me.status_code == 200 and me.json()["user"]["id"] == user["id"]
        persona = http.post(f"{second}/api/v1/personas", headers=csrf(http), json={
            "name": "Wren", "traits": ["calm"], "sliders": {}, "visibility": "private"})
        assert persona.status_code == 201, persona.text
        listed = http.get(f"{first}/api/v1/personas").json()["items"]
        assert [p["id"] for p in listed] == [persona.json()["persona"]["id"]]
        assert http.post(f"{first}/api/v1/auth/logout", headers=csrf(http)).status_code == 204
        assert http.get(f"{second}/api/v1/auth/me").status_code == 401


def test_uploads_on_one_process_are_served_by_the_other(deployment: Deployment) -> None:
    from tests.media.samples import image_bytes

    first, second = deployment.web
    with httpx.Client() as http:
        sign_up(http, first, "painter@example.com")
        persona = http.post(f"{first}/api/v1/personas", headers=csrf(http), json={
            "name": "Iris", "traits": [], "sliders": {}, "visibility": "private"}).json()
        uploaded = http.post(f"{first}/api/v1/personas/{persona['persona']['id']}/avatar",
                             headers=csrf(http),
                             files={"file": ("a.png", image_bytes("PNG"), "image/png")})
        assert uploaded.status_code == 201, uploaded.text
        served = http.get(f"{second}{uploaded.json()['media']['url']}")
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"


def test_a_stop_sent_to_one_process_ends_a_reply_streaming_from_the_other(
        deployment: Deployment) -> None:
    first, second = deployment.web
    with httpx.Client(timeout=60) as http:
        user = sign_up(http, first, "talker@example.com")
        grant(deployment, user["id"], 10_000)
        persona = http.post(f"{first}/api/v1/personas", headers=csrf(http), json={
            "name": "Moss", "traits": [], "sliders": {}, "visibility": "private"}).json()
        conversation = http.post(f"{first}/api/v1/conversations", headers=csrf(http), json={
            "persona_id": persona["persona"]["id"]}).json()["conversation"]
        base = f"/api/v1/conversations/{conversation['id']}/messages"
        events: list[tuple[str, dict[str, Any]]] = []
        with http.stream("POST", f"{first}{base}", headers=csrf(http),
                         json={"text": "Tell me everything"}) as stream:
            lines = stream.iter_lines()
            name = ""
            stopped = False
            for line in lines:
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append((name, json.loads(line.removeprefix("data: "))))
                    if name == "token" and len(events) == 3 and not stopped:
                        shown = http.get(f"{second}{base}").json()["items"]
                        reply = next(m for m in shown if m["role"] == "assistant")
                        asked = http.post(f"{second}{base}/{reply['id']}/stop",
                                          headers=csrf(http))
                        assert asked.status_code in (200, 202, 204), asked.text
                        stopped = True
    assert events[-1][0] == "done", events[-3:]
    tokens = [e for e in events if e[0] == "token"]
    assert len(tokens) < REPLY_TOKENS / 2  # it ended long before the model would have


def test_200_jobs_run_across_workers_with_one_killed_mid_way(deployment: Deployment) -> None:
    clock = Clock()

    async def queue() -> None:
        connection = await connect(deployment.database_url, data_dir=deployment.logs,
                                   name=deployment.database_name)
        try:
            for number in range(200):
                message = EmailMessage(to=f"reader{number}@example.com", subject="Hello",
                                       text=f"Message {number}", html=None,
                                       idempotency_key=f"deployment-{number}", tags={})
                await enqueue(connection.db, EMAIL_SEND, message_payload(message), clock=clock,
                              dedupe_key=f"email:deployment-{number}")
        finally:
            await connection.close()

    asyncio.run(queue())
    kinds = {"kind": EMAIL_SEND, "payload.idempotency_key": {"$regex": "^deployment-"}}
    outbox = deployment.db.outbox
    killed = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        sent = outbox.count_documents({"idempotency_key": {"$regex": "^deployment-"}})
        if not killed and sent >= 40:
            deployment.workers[0].send_signal(signal.SIGKILL)
            deployment.workers[0].wait()
            killed = True
        if deployment.db.jobs.count_documents({**kinds, "status": {"$ne": "done"}}) == 0:
            break
        time.sleep(0.2)
    assert killed
    jobs = list(deployment.db.jobs.find(kinds))
    assert len(jobs) == 200
    assert {job["status"] for job in jobs} == {"done"}, deployment.log_text()
    messages = list(outbox.find({"idempotency_key": {"$regex": "^deployment-"}}))
    assert sorted(m["idempotency_key"] for m in messages) == sorted(
        f"deployment-{n}" for n in range(200))
    # only jobs the killed worker held when it died ran a second time
    rerun = [job for job in jobs if job.get("attempts", 1) > 1]
    assert len(rerun) <= 4


def test_a_webhook_delivered_to_both_web_processes_at_once_grants_once(
        deployment: Deployment) -> None:
    first, second = deployment.web
    with httpx.Client(timeout=30) as http:
        user = sign_up(http, first, "buyer@example.com")
        # buying needs a confirmed address (the emailed link's effect, set directly here)
        deployment.db.users.update_one({"_id": user["id"]}, {"$set": {"email_verified": True}})
        catalog = http.get(f"{first}/api/v1/billing/catalog").json()
        pack = catalog["packs"][0]
        order = http.post(f"{first}/api/v1/billing/orders", headers=csrf(http),
                          json={"item_id": pack["id"]})
        assert order.status_code == 201, order.text
        order_id = order.json()["order_id"]
        for worker in deployment.workers:  # the sandbox's own delivery is queued, not run yet
            if worker.poll() is None:
                worker.send_signal(signal.SIGSTOP)
        try:
            chosen = http.post(f"{first}/billing/sandbox/checkout/{order_id}",
                               data={"outcome": "pay", "csrf_token": csrf(http)["X-CSRF-Token"]})
            assert chosen.status_code in (200, 303), chosen.text
            record = deployment.db.sandbox_orders.find_one({"_id": order_id})
            delivery = record["deliveries"][-1]

            async def deliver_twice() -> list[httpx.Response]:
                async with httpx.AsyncClient(timeout=30) as webhooks:
                    return list(await asyncio.gather(*(
                        webhooks.post(f"{url}/api/v1/billing/webhooks/sandbox",
                                      content=delivery["body"].encode(),
                                      headers=dict(delivery["headers"]))
                        for url in (first, second))))

            responses = asyncio.run(deliver_twice())
        finally:
            for worker in deployment.workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGCONT)
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = deployment.db.jobs.count_documents({  # daily jobs wait for tomorrow
                "status": {"$in": ["queued", "running"]}, "run_at": {"$lte": datetime.now(UTC)}})
            if pending == 0:
                break
            time.sleep(0.2)
        balance = http.get(f"{second}/api/v1/auth/me").json()["user"]["credits"]
        assert balance == pack["credits"]
        grants = list(deployment.db.credit_ledger.find({"user_id": user["id"]}))
        assert len([g for g in grants if g["delta"] > 0]) == 1
