"""What the platform adds to a streamed reply: time to first token, to the last token and to the
end through `POST /api/v1/conversations/{id}/messages` (SSE), next to the same fake
OpenAI-compatible server called directly and, when given, Open WebUI in front of that server,
at 1, 10, 50 and 500 concurrent streams, in one run.

    .venv/bin/python bench/chat_overhead.py [--tokens 64] [--rate 0] [--levels 1,10,50,500]
        [--open-webui PATH] [--reply-timeout 300]

The default (instant replies of 64 tokens) takes two to three minutes on two cores. Replies
paced like a model, 400 tokens at 20 tokens per second, at 100, 200 and 500 concurrent streams
(each reply lasts 20 s; about six minutes on two cores):

    .venv/bin/python bench/chat_overhead.py --rate 20 --tokens 400 --levels 100,200,500 \\
        [--open-webui ~/open-webui-venv]

Real processes on loopback ports: `bench/fake_openai_server.py` (every reply `--tokens` tokens,
paced at `--rate` tokens per second; 0: all at once), `clonechats serve` with its `openai`
provider pointed at it, everything as an operator gets it by default (embedded database, local
moderation of the message and the reply, mood signals, memory recall, metering with a ledger
reservation and release, the cost event) except one guard: a load generator is one address, so
the connections one address may hold is raised to the largest level. `--open-webui PATH` names
a virtualenv with Open WebUI installed (`PATH/bin/open-webui`); it is started with no sign-in,
no Ollama and its OpenAI connection pointed at the same fake, on a fresh data folder, and its
`POST /api/chat/completions` stream is timed the same way. Without it, or when Open WebUI does
not start, one line says it was skipped and why.

One signed-up user with generous credits (granted straight into the ledger); every platform
reply is the first message of a conversation of its own (created before its round, untimed),
so its prompt is what the direct and Open WebUI paths send: platform rules plus the persona
frame and the message; the persona's reply-length slider is at its top, so the platform asks
for the whole reply (up to 768 tokens). The same client times every path; at each level the
paths take turns round by round (the order rotating), and after each round the client waits
until the server it used is idle again, so background work of one path (moods, settling)
never runs while another is timed; the longest such wait is printed ("busy after a round's
last reply").

Per reply (`bench/streams.py`): time to first token (TTFT), to the last token, and the total
(the end of the stream; for the platform, the `done` event, which also covers settling: the
moderation of the reply, moods, the ledger release), and every gap between two tokens. Per
level: medians and 95th percentiles, gaps p50/p95/p99 over all replies, aggregate tokens/s, the
platform's "done after last token" (done minus last token), each server's peak resident memory
during the level (VmRSS of it and its children, polled), and errors by kind (non-2xx, SSE
`error` events, exceptions, timeouts); a failed reply is counted, never fatal. At the end, the
side-by-side tables in Markdown. Not a test: it only prints its figures. Compare figures only
between runs on the same machine.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

import servers
from clonechats.billing import ledger
from clonechats.personas.instructions import PLATFORM_RULES, frame_persona_for_model
from clonechats.storage import connect
from overhead_report import LevelFigures, print_level, print_summary
from servers import RssWatch, Skipped, process, wait_idle
from streams import Results, openai_reply, platform_reply, timed

HERE = Path(__file__).resolve().parent
PERSONA = {"name": "Maren", "tagline": "Keeps the light", "traits": ["calm", "curious"],
           "tone": "warm", "system_prompt": "A lighthouse keeper on a windy island.",
           "sliders": {"warmth": 70, "humour": 40, "formality": 30, "verbosity": 100,
                       "curiosity": 60}, "visibility": "private"}
# The reply-length slider sets the platform's max_tokens (the longest band: 768 tokens), so at
# 100 every reply up to 768 tokens is as long through the platform as direct.
LONGEST_BUDGET = 768
MESSAGE = "Tell me about the night the storm came in, please."
PASSWORD = "a long benchmark passphrase"  # noqa: S105 - a throwaway account
SINGLE_SAMPLES = 30  # sequential replies at level 1 with instant replies
ROUNDS = {50: 3}  # rounds per level (default 1)
MODEL = "bench-model"


def rounds_for(level: int, tokens: int, rate: float) -> int:
    """Level 1 takes sequential replies: 30 instant ones, or about 30 s of paced ones."""
    if level != 1:
        return ROUNDS.get(level, 1)
    if not rate:
        return SINGLE_SAMPLES
    return max(3, min(SINGLE_SAMPLES, math.ceil(30 / (tokens / rate))))


def client(url: str, most: int, timeout: float, headers: dict | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=timeout, headers=headers,
                             limits=httpx.Limits(max_connections=most + 20,
                                                 max_keepalive_connections=most + 20))


class Platform:
    """The signed-up user on Clone Chats, its persona, and conversations made on demand."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.persona_id = ""

    def csrf(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.http.cookies.get("csrf_token", "")}

    async def set_up(self, data_dir: Path) -> None:
        await self.http.get("/")
        signup = await self.http.post("/api/v1/auth/signup", headers=self.csrf(), json={
            "email": "bench@example.com", "password": PASSWORD, "birth_date": "1990-01-01"})
        signup.raise_for_status()
        user_id = signup.json()["user"]["id"]
        connection = await connect(None, data_dir=data_dir)
        try:
            await ledger.apply(connection.db, user_id=user_id, delta=100_000_000,
                               kind=ledger.GRANT, reason="benchmark credits",
                               idempotency_key="bench:grant", now=datetime.now(UTC))
        finally:
            await connection.close()
        persona = await self.http.post("/api/v1/personas", headers=self.csrf(), json=PERSONA)
        persona.raise_for_status()
        self.persona_id = persona.json()["persona"]["id"]

    async def conversations(self, count: int) -> list[str]:
        made: list[str] = []
        gate = asyncio.Semaphore(16)

        async def one() -> None:
            async with gate:
                created = await self.http.post("/api/v1/conversations", headers=self.csrf(),
                                               json={"persona_id": self.persona_id})
                created.raise_for_status()
                made.append(created.json()["conversation"]["id"])

        await asyncio.gather(*(one() for _ in range(count)))
        return made


def prompt_body(tokens: int) -> dict:
    frame = frame_persona_for_model(PERSONA, platform_rules=PLATFORM_RULES)
    return {"model": MODEL, "messages": [*frame, {"role": "user", "content": MESSAGE}],
            "max_tokens": tokens, "temperature": 0.7, "stream": True,
            "stream_options": {"include_usage": True}}


async def measure(args: argparse.Namespace, urls: dict[str, str], pids: dict[str, int],
                  data_dir: Path, owui_token: str | None, rss: RssWatch) -> list[LevelFigures]:
    most = max(args.levels)
    ours = Platform(client(urls["ours"], most, args.reply_timeout))
    direct = client(urls["direct"], most, args.reply_timeout,
                    {"Authorization": "Bearer sk-bench"})
    owui = client(urls["open_webui"], most, args.reply_timeout,
                  {"Authorization": f"Bearer {owui_token}"}) if owui_token else None
    body = prompt_body(args.tokens)
    makers = {"direct": lambda _c: openai_reply(direct, "/v1/chat/completions", body)}
    if owui is not None:
        makers["open_webui"] = lambda _c: openai_reply(owui, "/api/chat/completions", body)
    makers["ours"] = lambda c: platform_reply(ours.http, c, MESSAGE)
    paths = list(makers)
    done: list[LevelFigures] = []
    try:
        await ours.set_up(data_dir)
        warm = Results()
        for conversation in await ours.conversations(3):  # classifiers and models load
            for path in paths:
                await timed(warm, makers[path](conversation), args.reply_timeout)
        if warm.errors:
            print(f"# warm-up errors: {dict(warm.errors)} {warm.examples}")
        for name in pids:
            if name != "direct":
                await wait_idle(pids[name])
        for level in args.levels:
            rounds = rounds_for(level, args.tokens, args.rate)
            figures = LevelFigures(level, rounds, {path: Results() for path in paths})
            figures.busy = {name: 0.0 for name in pids if name != "direct"}
            rss.reset()
            for number in range(rounds):
                conversations = await ours.conversations(level)
                turn = paths[number % len(paths):] + paths[:number % len(paths)]
                for path in turn:
                    found = figures.results[path]
                    started = time.perf_counter()
                    await asyncio.gather(*(timed(found, makers[path](conversations[i]),
                                                 args.reply_timeout) for i in range(level)))
                    found.wall += time.perf_counter() - started
                    if path in figures.busy:
                        figures.busy[path] = max(figures.busy[path],
                                                 await wait_idle(pids[path]))
            figures.rss = {name: rss.peak(name) for name in pids if name != "direct"}
            print_level(figures)
            done.append(figures)
    finally:
        await ours.http.aclose()
        await direct.aclose()
        if owui is not None:
            await owui.aclose()
    return done


def start_open_webui(stack: contextlib.ExitStack, venv: Path, urls: dict[str, str],
                     base_env: dict[str, str], scratch: Path) -> tuple[int, str]:
    """Start Open WebUI from `venv` (kept running by `stack`) and sign in: (pid, token), or
    Skipped with the reason, leaving nothing running."""
    port = int(urls["open_webui"].rsplit(":", 1)[1])
    command = servers.open_webui_command(venv, port)
    home = scratch / "open-webui"
    home.mkdir()
    env = servers.open_webui_env(base_env, urls["direct"], home / "data")
    with contextlib.ExitStack() as mine:
        try:
            owui = mine.enter_context(process(command, f"{urls['open_webui']}/health", env,
                                              home / "serve.log", cwd=home, wait_s=300))
        except (RuntimeError, OSError) as exc:
            raise Skipped(f"it did not start: {exc}") from exc
        token = servers.open_webui_token(urls["open_webui"], MODEL)
        stack.enter_context(mine.pop_all())
    print(f"# Open WebUI: {Path(command[0]).name} {command[1]} on {urls['open_webui']}, "
          f"data in a fresh {home / 'data'}")
    return owui.pid, token


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64, help="tokens in every reply")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="tokens per second of the fake's replies (0: all at once)")
    parser.add_argument("--levels", default="1,10,50,500",
                        help="concurrent streams, comma-separated")
    parser.add_argument("--open-webui", type=Path, metavar="PATH",
                        help="a virtualenv with Open WebUI installed, to measure it too")
    parser.add_argument("--reply-timeout", type=float, default=300.0,
                        help="seconds one reply may take before it counts as an error")
    args = parser.parse_args()
    args.levels = [int(level) for level in args.levels.split(",")]
    if args.tokens < 1 or args.rate < 0 or min(args.levels) < 1:
        parser.error("--tokens and every level must be positive, --rate not negative")
    if args.tokens > LONGEST_BUDGET:
        print(f"# note: the platform asks for at most {LONGEST_BUDGET} tokens a reply, so its "
              f"replies are shorter than --tokens {args.tokens}")
    return args


def main() -> None:
    args = parse_args()
    most = max(args.levels)
    ports = {name: servers.free_port() for name in ("direct", "ours", "open_webui")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CLONECHATS_")}
    pace = f"paced at {args.rate:g} tokens/s" if args.rate else "all at once"
    print(f"# {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}; {args.tokens}-token replies {pace} "
          f"from a fake server; levels {','.join(map(str, args.levels))}")
    print(f"# ours: server.max_connections_per_address raised to {most + 50} (one load "
          "generator address); everything else default")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clonechats-bench-") as scratch, \
            contextlib.ExitStack() as stack:
        scratch_dir = Path(scratch)
        data_dir = scratch_dir / "data"
        app_env = {**base_env, "CLONECHATS_DEV_MODE": "1", "CLONECHATS_LOG_JSON": "1",
                   "CLONECHATS_ACCOUNTS__BCRYPT_ROUNDS": "4",
                   "CLONECHATS_SERVER__MAX_CONNECTIONS_PER_ADDRESS": str(most + 50),
                   "CLONECHATS_LLM__OPENAI_API_KEY": "sk-bench",
                   "CLONECHATS_LLM__OPENAI_BASE_URL": f"{urls['direct']}/v1",
                   "CLONECHATS_LLM__OPENAI_MODELS": json.dumps(
                       [{"name": MODEL, "context_window": 8192, "label": "Bench"}]),
                   "CLONECHATS_LLM__DEFAULT_MODEL": f"openai:{MODEL}",
                   "CLONECHATS_CHAT__MAX_REPLY_TOKENS": str(args.tokens)}
        fake_cmd = [sys.executable, str(HERE / "fake_openai_server.py"), "--port",
                    str(ports["direct"]), "--tokens", str(args.tokens), "--rate",
                    str(args.rate)]
        app_cmd = [sys.executable, "-m", "clonechats", "serve", "--host", "127.0.0.1",
                   "--port", str(ports["ours"]), "--data-dir", str(data_dir), "--dev"]
        pids = {"direct": stack.enter_context(process(
            fake_cmd, f"{urls['direct']}/v1/models", base_env, scratch_dir / "fake.log")).pid}
        pids["ours"] = stack.enter_context(process(
            app_cmd, f"{urls['ours']}/healthz", app_env, scratch_dir / "app.log")).pid
        owui_token = None
        if args.open_webui is None:
            print("# Open WebUI: skipped (no --open-webui PATH given)")
        else:
            try:
                pids["open_webui"], owui_token = start_open_webui(
                    stack, args.open_webui.expanduser(), urls, base_env, scratch_dir)
            except Skipped as exc:
                print(f"# Open WebUI: skipped ({exc})")
        rss = stack.enter_context(RssWatch())
        for name, pid in pids.items():
            if name != "direct":
                rss.watch(name, pid)
        levels = asyncio.run(measure(args, urls, pids, data_dir, owui_token, rss))
        lifetime = ", ".join(f"{name} {servers.hwm_mib(pid):.0f} MiB" for name, pid in pids.items())
        print(f"\n# peak RSS since start (VmHWM, main process): {lifetime}")
    print_summary(levels, f"{args.tokens}-token replies {pace}, {os.cpu_count()} CPUs")
    print(f"\n# took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
