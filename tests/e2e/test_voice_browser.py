"""Voice in a real browser: Chromium's fake microphone plays a WAV made by the local Piper
voice. Talking into the chat page puts the words in the message box; the voice call page
listens, ends the turn on the pause, transcribes and answers; a persona reply can be played."""

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, WatchedPage, message_box

pytestmark = pytest.mark.e2e

SENTENCE = "The quick brown fox jumps over the lazy dog."
HEARD = re.compile(r"quick brown fox jumps over the lazy dog", re.I)
PASSWORD = "violet kettle harbour lamp"
SLOW_MS = 180_000  # first use loads the speech models, the language model and the moderator


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clonechats.providers.speech.encoding import wav_bytes
    from clonechats.providers.speech.local import LocalTTS

    tts = LocalTTS()
    voice = next(v for v in tts.voices() if v.id == "local:piper-joe")
    synthesis = asyncio.run(tts.synthesize(SENTENCE, voice=voice))
    path = tmp_path_factory.mktemp("voice") / "speech.wav"
    path.write_bytes(wav_bytes(synthesis.samples, synthesis.sample_rate))
    return path


@pytest.fixture(scope="module")
def browser(speech_wav: Path) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs it")
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={speech_wav}%noloop",
            "--autoplay-policy=no-user-gesture-required"]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=args)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def member(browser: Browser, live_server: str) -> dict:
    """One member for the whole module: signed up from a trial, with a persona; its browser
    state."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.goto("/")
    assert page.request.post("/api/v1/auth/trial").status == 201
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(f"voice-{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    headers = {"X-CSRF-Token": csrf(page)}
    persona = page.request.post("/api/v1/personas", headers=headers, data={
        "name": "Vera", "traits": ["brief"], "system_prompt": "Answer in one short sentence.",
        "voice": {"voice_id": "local:espeak-en-gb-f", "rate": 1.2}}).json()["persona"]
    state = context.storage_state()
    context.close()
    return {"state": state, "persona_id": persona["id"]}


def csrf(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrf_token")


def open_chat(new_page, member: dict, *size: int, **options) -> tuple[WatchedPage, str]:
    """A page signed in as the module's member, and a new chat with its persona."""
    watched = new_page(*size, storage_state=member["state"], **options)
    page = watched.page
    page.goto("/chat")
    chat = page.request.post("/api/v1/conversations", headers={"X-CSRF-Token": csrf(page)},
                             data={"persona_id": member["persona_id"]}).json()["conversation"]
    return watched, chat["id"]


WAIT_FOR_SPEECH_TO_END = """() => {
  // the fake microphone has played the whole file: it was loud, and has been quiet for 20
  // samples of the level meter in a row (pauses between words are shorter)
  const meter = document.querySelector("[data-mic-level]");
  window.__peak = Math.max(window.__peak || 0, meter.value);
  window.__quiet = meter.value < 0.01 ? (window.__quiet || 0) + 1 : 0;
  return window.__peak > 0.05 && window.__quiet >= 20;
}"""


def test_talking_into_the_chat_fills_the_message_box(new_page, member):
    watched, chat_id = open_chat(new_page, member, *PHONE, permissions=["microphone"])
    page = watched.page
    page.goto(f"/chat/{chat_id}")
    mic = page.get_by_role("button", name="Speak")
    mic.click()  # a tap starts recording
    expect(page.get_by_role("button", name="Stop recording")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    page.wait_for_function(WAIT_FOR_SPEECH_TO_END, polling=100, timeout=30_000)
    page.get_by_role("button", name="Stop recording").click()
    box = message_box(page, "Vera")
    expect(box).to_have_value(HEARD, timeout=SLOW_MS)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    assert watched.problems == []


def test_a_voice_call_hears_the_user_and_answers(new_page, member):
    watched, chat_id = open_chat(new_page, member, permissions=["microphone"])
    page = watched.page
    page.goto(f"/chat/{chat_id}/call")
    state = page.locator("[data-call-state]")
    expect(state).to_have_text("Not started")
    page.get_by_role("button", name="Start call").focus()
    page.keyboard.press("Enter")
    expect(state).to_have_text(re.compile("Listening|Hearing"))
    expect(page.locator("[data-call-you]")).to_have_text(HEARD, timeout=SLOW_MS)
    expect(page.locator("[data-call-persona]")).not_to_have_text("", timeout=SLOW_MS)
    expect(state).to_have_text(re.compile("Speaking|Listening"), timeout=SLOW_MS)
    messages = page.request.get(f"/api/v1/conversations/{chat_id}/messages").json()["items"]
    assert HEARD.search(messages[0]["text"])
    clips = page.request.get("/api/v1/clips").json()["items"]
    assert clips and clips[0]["conversation_id"] == chat_id
    assert clips[0]["message_id"] == messages[-1]["id"]
    assert watched.problems == []


def test_play_on_a_reply_plays_its_clip(new_page, member):
    watched, chat_id = open_chat(new_page, member)
    page = watched.page
    page.goto(f"/chat/{chat_id}")
    message_box(page, "Vera").fill("Say hello.")
    page.get_by_role("button", name="Send").click()
    play = page.locator(".message.assistant [data-action=play]")
    expect(play).to_be_visible(timeout=SLOW_MS)
    with page.expect_response(re.compile(r"/speech$")) as answer:
        play.click()
    assert answer.value.status == 201
    clip = answer.value.json()["clip"]
    expect(play).to_have_text(re.compile("Stop|Play"))
    audio = page.request.get(clip["url"])
    assert audio.status == 200 and audio.headers["content-type"] == "audio/ogg"
    assert watched.problems == []
