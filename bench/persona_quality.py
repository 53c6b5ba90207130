"""How well each model plays a persona: fixed personas and questions, automatic checks.

    .venv/bin/python bench/persona_quality.py [--models local:qwen2.5-1.5b,local:smollm2-135m]
        [--styles compact,full] [--temperature 0] [--show]

For every model (the local ones, and vendor models whose keys are set in the environment) and
prompt style (`compact`: the frame local models get, `personas/compact_frame.py`; `full`: the
frame vendor models get, `personas/instructions.py`), each persona answers the same questions,
with one stored memory recalled into the prompt as the chat would. The prompt is built with the
platform's own functions, and each reply's max_tokens is the reply-length slider's budget.
Checks, as a share of the replies they apply to:

- `self`: to "Who are you?" it answers in the first person and gives the persona's name;
- `memory`: asked about the stored fact, the reply contains it;
- `length`: every reply stays within the words the reply-length slider asks for, and ends
  before its token budget cut it (a cut reply is one the model did not keep short itself);
- `no-AI`: no reply calls itself an assistant, a language model or a vendor's product;
- `no-swap`: no reply takes the user's part or leaves its own (the user's name as its own,
  writing "User:" lines, calling the user by the persona's name, narrating about "the user",
  claiming the user's remembered fact as its own).

Also printed: what each part of the prompt costs in tokens, and per model the median time to
first token and decode tokens per second. The machine's two cores are shared with other work,
so speeds are noisy; compare models within one run. Not a test: it only prints.
"""

import argparse
import asyncio
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from clonechats.chat.context import MEMORY_HEADER, SUMMARY_HEADER, _quoted
from clonechats.personas import instructions
from clonechats.personas.compact_frame import (
    COMPACT_MEMORY_HEADER,
    compact_frame,
    reply_token_budget,
)
from clonechats.providers.llm.base import ChatMessage, StreamEnd, TextDelta

TAG = "5f0c1d2e3a4b6c7d"
WORD_LIMITS = (25, 55, 140, 300, 600)  # most words per band of the reply-length slider

PERSONAS: list[dict[str, Any]] = [
    {"_id": "p1", "name": "Maren", "tagline": "Keeper of the Gull Rock lighthouse.",
     "traits": ["patient", "observant", "dry-humoured"], "tone": "calm and salty",
     "system_prompt": "Maren has kept the lighthouse on Gull Rock for thirty years. She knows "
     "every storm by the sound of the wind and keeps a logbook of passing ships.",
     "sliders": {"verbosity": 15, "warmth": 70}, "greeting": "", "example_dialogue": "",
     "memory": "The user's dog is called Biscuit.", "memory_question":
     "Do you remember what my dog is called?", "memory_answer": "biscuit"},
    {"_id": "p2", "name": "Captain Wren", "tagline": "Airship captain of the Kestrel.",
     "traits": ["bold", "generous"], "tone": "brisk and cheerful",
     "system_prompt": "Captain Wren flies the cargo airship Kestrel between mountain towns.",
     "sliders": {"verbosity": 30, "humour": 70}, "greeting": "Welcome aboard the Kestrel!",
     "example_dialogue": "", "memory": "The user is afraid of storms.",
     "memory_question": "What am I afraid of? You should remember.", "memory_answer": "storm"},
    {"_id": "p3", "name": "Dr Quill", "tagline": "Retired astronomer who loves comets.",
     "traits": ["curious", "kind"], "tone": "gentle and precise",
     "system_prompt": "Dr Quill spent forty years at a mountain observatory and still "
     "watches the sky every clear night.", "sliders": {"verbosity": 45, "curiosity": 80},
     "greeting": "", "example_dialogue": "", "memory": "The user lives in Lisbon.",
     "memory_question": "Which city do I live in?", "memory_answer": "lisbon"},
    {"_id": "p4", "name": "Rosa", "tagline": "Chef of a tiny trattoria in Naples.",
     "traits": ["warm", "opinionated"], "tone": "lively",
     "system_prompt": "Rosa runs a six-table trattoria and cooks what the market has.",
     "sliders": {"verbosity": 10, "warmth": 90}, "greeting": "Ciao! Sit, sit.",
     "example_dialogue": "", "memory": "The user's favourite food is spicy ramen.",
     "memory_question": "What's my favourite food?", "memory_answer": "ramen"},
]
USER_NAME = "Maya"
QUESTIONS = ("self", "memory", "day", "swap", "advice")
ASSISTANT_CLAIM = re.compile(
    r"\b(as an ai|ai (language )?model|language model|assistant|chatbot|"
    r"designed to (assist|help)|i am an ai|i'm an ai|non-human|openai|alibaba|qwen|chatgpt|"
    r"created by|trained by)\b", re.IGNORECASE)
FIRST_PERSON = re.compile(r"\b(i|i'm|i am|i've|me|my)\b", re.IGNORECASE)


def question_text(kind: str, persona: dict[str, Any]) -> str:
    return {"self": "Who are you?", "memory": persona["memory_question"],
            "day": "How was your day?", "swap": f"Hi, I'm {USER_NAME}. Nice to meet you!",
            "advice": "I can't sleep lately. Any advice?"}[kind]


def messages_for(style: str, persona: dict[str, Any], question: str) -> list[ChatMessage]:
    memory = [persona["memory"]]
    if style == "compact":
        frame = compact_frame(persona, tag=TAG)
        tail = [{"role": "system", "content": _quoted(COMPACT_MEMORY_HEADER, memory)}]
        chat = [*frame, *tail, {"role": "user", "content": question}]
    else:
        with mock.patch.object(instructions.secrets, "token_hex", return_value=TAG):
            frame = instructions.frame_persona_for_model(
                persona, platform_rules=instructions.PLATFORM_RULES)
        chat = [*frame, {"role": "system", "content": _quoted(MEMORY_HEADER, memory)},
                {"role": "user", "content": question}]
    return [ChatMessage(m["role"], m["content"]) for m in chat]


@dataclass
class Tally:
    passed: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    ttft: list[float] = field(default_factory=list)
    decode: list[float] = field(default_factory=list)
    words: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, note: str) -> None:
        self.total[name] = self.total.get(name, 0) + 1
        self.passed[name] = self.passed.get(name, 0) + int(ok)
        if not ok:
            self.failures.append(f"{name}: {note}")

    def share(self, name: str) -> str:
        total = self.total.get(name, 0)
        return f"{self.passed.get(name, 0)}/{total}" if total else "-"


def judge(tally: Tally, kind: str, persona: dict[str, Any], reply: str, cut: bool) -> None:
    name = persona["name"]
    words = len(reply.split())
    limit = WORD_LIMITS[instructions.band(persona["sliders"].get("verbosity", 50))]
    short = f"{name}/{kind}: {reply[:160]!r}"
    tally.words.append(words)
    if kind == "self":
        first_name = name.split()[-1].lower()
        tally.check("self", bool(FIRST_PERSON.search(reply)) and first_name in reply.lower(),
                    short)
    if kind == "memory":
        tally.check("memory", persona["memory_answer"] in reply.lower(), short)
    tally.check("length", words <= limit and not cut,
                f"{words} words (limit {limit}){', cut by the budget' if cut else ''}: {short}")
    tally.check("no-AI", not ASSISTANT_CLAIM.search(reply), short)
    swapped = (re.search(rf"\b(i'm|i am|my name is) {USER_NAME}\b", reply, re.IGNORECASE)
               or re.search(r"^\s*(user|you|" + re.escape(USER_NAME) + r")\s*:", reply,
                            re.IGNORECASE | re.MULTILINE)
               or re.match(rf"\s*(welcome|hello|hi|hey)?,?\s*{re.escape(name)}\b", reply,
                           re.IGNORECASE)
               or re.search(rf",\s*{re.escape(name)}\s*[.!?,]", reply, re.IGNORECASE)
               or re.search(rf"\b(welcome|hello|hi|hey|dear|thanks|thank you),?\s+"
                            rf"{re.escape(name)}\b", reply, re.IGNORECASE)
               or re.search(rf"\b(you are|you're)\s+{re.escape(name)}\b", reply, re.IGNORECASE)
               or re.search(r"\bthe user\b", reply, re.IGNORECASE)
               or (kind == "memory" and re.search(r"\b(i'm|i am|my)\b", reply, re.IGNORECASE)
                   and persona["memory_answer"] in reply.lower()
                   and not re.search(r"\byou(r|'re)?\b", reply, re.IGNORECASE)))
    tally.check("no-swap", not swapped, short)


async def ask(provider: Any, model: str, messages: list[ChatMessage], max_tokens: int,
              temperature: float) -> tuple[str, float, float, bool]:
    started = time.perf_counter()
    first = None
    parts: list[str] = []
    tokens = 0
    cut = False
    async for item in provider.stream(model=model, messages=messages, max_tokens=max_tokens,
                                      temperature=temperature):
        if isinstance(item, TextDelta):
            first = first or time.perf_counter()
            parts.append(item.text)
        elif isinstance(item, StreamEnd):
            tokens = item.usage.completion_tokens
            cut = item.finish_reason == "length"
    ended = time.perf_counter()
    first = first or ended
    decode = (tokens - 1) / (ended - first) if tokens > 1 and ended > first else 0.0
    return "".join(parts).strip(), first - started, decode, cut


async def token_costs(provider: Any, model: str) -> None:
    """What each part of the prompt costs, by the model's own tokenizer."""
    persona = PERSONAS[0]
    count = provider.count_tokens

    async def cost(messages: list[dict[str, str]]) -> int:
        return await count(model=model, messages=[ChatMessage(m["role"], m["content"])
                                                  for m in messages])

    anchor = await cost([{"role": "system", "content": "."}])
    with mock.patch.object(instructions.secrets, "token_hex", return_value=TAG):
        full = instructions.frame_persona_for_model(persona,
                                                    platform_rules=instructions.PLATFORM_RULES)
    rules = await cost([full[0]]) - anchor + 1
    full_total = await cost(full)
    compact = await cost(compact_frame(persona, tag=TAG))
    memories = [p["memory"] for p in PERSONAS] + ["The user works as a nurse."]
    memory = await cost([full[0], {"role": "system", "content": _quoted(
        COMPACT_MEMORY_HEADER, memories[:5])}]) - await cost([full[0]])
    summary_lines = [f"User: {p['memory_question']}" for p in PERSONAS] * 3
    summary = await cost([full[0], {"role": "system", "content": _quoted(
        SUMMARY_HEADER, summary_lines)}]) - await cost([full[0]])
    print(f"Prompt cost in tokens ({model}): platform rules {rules}; full frame (rules + "
          f"persona + reminder) {full_total}; compact frame (rules + persona + style + example "
          f"exchange) {compact}; 5 memories {memory}; a 12-line summary {summary}")


async def run_model(provider: Any, model: str, style: str, temperature: float,
                    show: bool) -> Tally:
    tally = Tally()
    for persona in PERSONAS:
        budget = reply_token_budget(persona)
        for kind in QUESTIONS:
            messages = messages_for(style, persona, question_text(kind, persona))
            reply, ttft, decode, cut = await ask(provider, model, messages, budget,
                                                 temperature)
            tally.ttft.append(ttft)
            if decode:
                tally.decode.append(decode)
            judge(tally, kind, persona, reply, cut)
            if show:
                print(f"    [{persona['name']} / {kind}] {reply!r}")
    return tally


def registry_from_environment() -> Any:
    import httpx

    from clonechats.providers.llm.registry import build_llm_registry
    from clonechats.settings import Settings

    return build_llm_registry(Settings(), http=httpx.AsyncClient(timeout=60))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=None, help="comma-separated ids (default: all "
                        "enabled)")
    parser.add_argument("--styles", default="compact,full")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--show", action="store_true", help="print every reply")
    args = parser.parse_args()
    registry = registry_from_environment()
    models = args.models.split(",") if args.models else [m.id for m in registry.enabled_models()]
    print(f"{len(PERSONAS)} personas x {len(QUESTIONS)} questions, temperature "
          f"{args.temperature}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(shared: speeds are noisy)")
    rows = []
    for model in models:
        provider, info = registry.resolve(model)
        if info.provider == "local":
            await token_costs(provider, info.id)
        for style in args.styles.split(","):
            started = time.perf_counter()
            tally = await run_model(provider, info.id, style, args.temperature, args.show)
            rows.append((info.id, style, tally, time.perf_counter() - started))
            for failure in tally.failures[:12]:
                print(f"  {info.id} {style} failed {failure}")
    checks = ("self", "memory", "length", "no-AI", "no-swap")
    header = (f"{'model':<24} {'prompt':<8} " + " ".join(f"{c:>8}" for c in checks)
              + "  words  TTFT s  tok/s  total s")
    print(header)
    for model, style, tally, seconds in rows:
        print(f"{model:<24} {style:<8} " + " ".join(f"{tally.share(c):>8}" for c in checks)
              + f"  {statistics.median(tally.words):5.0f}  {statistics.median(tally.ttft):6.2f}"
              f"  {statistics.median(tally.decode or [0]):5.1f}  {seconds:7.0f}")


if __name__ == "__main__":
    asyncio.run(main())
