"""Persona media in a real browser: upload an avatar with a preview, see a refused file
explained, upload a voice and play it back, export the card."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WatchedPage
from tests.media.samples import image_bytes, jpeg_with_gps, wav_bytes

pytestmark = pytest.mark.e2e

PASSWORD = "amber window thistle clock"


def test_upload_avatar_voice_and_export_the_card(page: WatchedPage) -> None:
    browser = page.page
    browser.goto("/signup")
    browser.get_by_label("Email", exact=True).fill(f"media-{uuid.uuid4().hex[:10]}@example.com")
    browser.get_by_label("Password", exact=True).fill(PASSWORD)
    browser.get_by_label("Date of birth").fill("1990-04-02")
    browser.get_by_role("button", name="Create account").click()
    expect(browser).to_have_url(re.compile(r"/account$"))

    browser.goto("/personas/new")
    browser.get_by_label("Name").fill("Nova")
    browser.get_by_role("button", name="Create persona").click()
    expect(browser).to_have_url(re.compile(r"/personas/[0-9a-f]{24}$"))
    persona_id = browser.url.rsplit("/", 1)[1]
    browser.goto(f"/personas/{persona_id}/edit")

    browser.get_by_label("Choose a picture").set_input_files(
        {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps((600, 400))})
    preview = browser.locator("[data-avatar-preview]")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"))
    browser.get_by_role("button", name="Upload avatar").click()
    expect(browser.get_by_text("Avatar saved.")).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile(r"^/media/[0-9a-f]{24}$"))

    browser.get_by_label("Add a reference image").set_input_files(
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"plain text, not a picture"})
    browser.get_by_role("button", name="Add image").click()
    images_form = browser.locator('form[data-upload$="/images"]')
    expect(images_form.locator("[role=alert]")).to_contain_text("not accepted")

    browser.get_by_label("Add a reference image").set_input_files(
        {"name": "ref.png", "mimeType": "image/png", "buffer": image_bytes("PNG", (300, 300))})
    browser.get_by_role("button", name="Add image").click()
    expect(browser.get_by_role("img", name="Reference image 1")).to_be_visible()

    browser.get_by_label("Choose a recording").set_input_files(
        {"name": "voice.wav", "mimeType": "audio/wav", "buffer": wav_bytes(4.0)})
    browser.get_by_role("button", name="Upload voice").click()
    expect(browser.locator("audio[controls]")).to_have_attribute(
        "src", re.compile(r"^/media/[0-9a-f]{24}$"))

    card = browser.request.get(f"/api/v1/personas/{persona_id}/card")
    assert card.ok and card.json()["data"]["name"] == "Nova"
    with browser.expect_download() as download:
        browser.get_by_role("link", name="Export card (PNG)").click()
    assert download.value.suggested_filename == "Nova.card.png"

    browser.wait_for_load_state("networkidle")
    unexpected = [p for p in page.problems
                  if not re.search(r"status of 415 .*/api/v1/personas/[0-9a-f]+/images\)$", p)]
    assert unexpected == []
