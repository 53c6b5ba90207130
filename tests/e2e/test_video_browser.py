"""Reply as video in a real browser: the button on a persona reply, live progress, and the
finished clip playing inline with its poster (H.264/AAC MP4 decoded by Chromium)."""

import base64
import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, WatchedPage, message_box
from tests.video_samples import face_image, landscape_image

pytestmark = pytest.mark.e2e

PASSWORD = "violet kettle harbour lamp"
SLOW_MS = 180_000  # the first reply loads the language model and the moderator


def member_with_chat(page: Page, tmp_path: Path, image: bytes) -> str:
    """A new member (with the trial's credits), a persona whose avatar is `image`, a chat."""
    page.goto("/")
    assert page.request.post("/api/v1/auth/trial").status == 201
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(f"video-{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrf_token")
    headers = {"X-CSRF-Token": token}
    persona = page.request.post("/api/v1/personas", headers=headers, data={
        "name": "Vera", "traits": ["brief"], "system_prompt": "Answer in one short sentence.",
        "voice": {"voice_id": "local:espeak-en-gb-f", "rate": 1.2}}).json()["persona"]
    uploaded = page.request.post(f"/api/v1/personas/{persona['id']}/avatar", headers=headers,
                                 multipart={"file": {"name": "face.png", "mimeType": "image/png",
                                                     "buffer": image}})
    assert uploaded.status == 201, uploaded.text()
    chat = page.request.post("/api/v1/conversations", headers=headers,
                             data={"persona_id": persona["id"]}).json()["conversation"]
    return chat["id"]


def _reply(page: Page, chat_id: str) -> None:
    page.goto(f"/chat/{chat_id}")
    message_box(page, "Vera").fill("Say hello.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message.assistant [data-action=video]")).to_be_visible(
        timeout=SLOW_MS)


def test_a_reply_becomes_a_video_that_plays_inline(new_page, tmp_path):
    watched: WatchedPage = new_page(*PHONE)
    page = watched.page
    chat_id = member_with_chat(page, tmp_path, face_image(400))
    _reply(page, chat_id)
    with page.expect_response(re.compile(r"/video$")) as answer:
        page.locator(".message.assistant [data-action=video]").click()
    assert answer.value.status == 202
    video = page.locator(".message.assistant video")
    expect(video).to_be_visible(timeout=SLOW_MS)
    expect(video).to_have_attribute("poster", re.compile(r"^/media/"))
    page.wait_for_function("() => document.querySelector('.message.assistant video')"
                           "?.readyState >= 1", timeout=30_000)
    width = page.evaluate("document.querySelector('.message.assistant video').videoWidth")
    assert width == 512
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    expect(page.get_by_role("button", name="Keep")).to_be_visible()
    page.get_by_role("button", name="Keep").click()
    expect(page.get_by_role("button", name="Kept (undo)")).to_be_visible()

    page.reload()  # a video made earlier is shown when the page opens
    expect(page.locator(".message.assistant video")).to_be_visible(timeout=10_000)
    assert watched.problems == []


def test_a_persona_without_a_face_gets_a_clear_refusal(new_page, tmp_path):
    watched: WatchedPage = new_page()
    page = watched.page
    chat_id = member_with_chat(page, tmp_path, landscape_image(400))
    _reply(page, chat_id)
    page.locator(".message.assistant [data-action=video]").click()
    alert = page.locator(".message.assistant .message-video [role=alert]")
    expect(alert).to_contain_text("face")
    assert [p for p in watched.problems if "422" not in p] == []


SPEAK_A_TONE = """async () => {
  // A second of a loud 180 Hz buzz as a WAV blob, played the way voice-audio.js plays a clip.
  const rate = 22050, n = rate, data = new DataView(new ArrayBuffer(44 + n * 2));
  const text = (offset, s) => [...s].forEach((c, i) => data.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF"); data.setUint32(4, 36 + n * 2, true); text(8, "WAVEfmt ");
  data.setUint32(16, 16, true); data.setUint16(20, 1, true); data.setUint16(22, 1, true);
  data.setUint32(24, rate, true); data.setUint32(28, rate * 2, true);
  data.setUint16(32, 2, true); data.setUint16(34, 16, true); text(36, "data");
  data.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) {
    data.setInt16(44 + i * 2, Math.sin(i / rate * 2 * Math.PI * 180) * 20000, true);
  }
  const audio = new Audio(URL.createObjectURL(new Blob([data], { type: "audio/wav" })));
  document.dispatchEvent(new CustomEvent("voice:audio", { detail: audio }));
  await audio.play();
  window.__opened = 0;
  const canvas = document.querySelector("[data-avatar-canvas]");
  const still = canvas.getContext("2d").getImageData(0, 0, 256, 256).data;
  let changed = 0, picture = null;
  return new Promise((resolve) => {
    const watch = () => {
      const open = Number(canvas.dataset.mouthOpen);
      window.__opened = Math.max(window.__opened, open);
      if (open > 0.6 && !picture) {
        picture = canvas.toDataURL("image/png");
        const now = canvas.getContext("2d").getImageData(0, 0, 256, 256).data;
        // pixels of the lower half (the mouth and jaw) that differ from the still face
        for (let i = 256 * 128 * 4; i < now.length; i += 4) {
          if (Math.abs(now[i] - still[i]) + Math.abs(now[i + 1] - still[i + 1]) > 60) changed++;
        }
      }
      if (audio.ended) resolve({ max: window.__opened, changed, picture });
      else requestAnimationFrame(watch);
    };
    watch();
  });
}"""


def test_the_voice_call_shows_the_persona_face_moving_with_its_speech(new_page, tmp_path):
    watched: WatchedPage = new_page()
    page = watched.page
    chat_id = member_with_chat(page, tmp_path, face_image(400))
    page.goto(f"/chat/{chat_id}/call")
    canvas = page.locator("[data-avatar-canvas]")
    expect(canvas).to_be_visible()
    expect(canvas).to_have_attribute("data-mouth-open", "0.00")
    canvas.click()  # a user gesture, so the page may play sound
    result = page.evaluate(SPEAK_A_TONE)
    assert result["max"] > 0.6  # the mouth opened wide while the persona spoke
    assert result["changed"] > 200  # ... and it shows: the lower face was drawn open
    page.wait_for_function("() => Number(document.querySelector('[data-avatar-canvas]')"
                           ".dataset.mouthOpen) < 0.05", timeout=5_000)  # and closed after
    if os.environ.get("VIDEO_E2E_PICTURES"):
        Path(os.environ["VIDEO_E2E_PICTURES"]).write_bytes(
            base64.b64decode(result["picture"].split(",", 1)[1]))
    assert watched.problems == []
