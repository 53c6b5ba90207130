"""The pricing page: buttons that name what they buy, and only features this server delivers."""

from html.parser import HTMLParser
from pathlib import Path

import pytest

from clonechats.settings import Settings, SpeechSettings, VideoSettings
from tests.billing.helpers import buyer
from tests.conftest import FAST_HASHING, make_settings


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         **getattr(request, "param", {}))


class PlanCards(HTMLParser):
    """Each card's features (by item id) and the text of every button on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.features: dict[str, list[str]] = {}
        self.buttons: list[str] = []
        self._item: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "li" and found.get("data-item"):
            self._item = found["data-item"]
            self.features[self._item] = []
        elif tag == "li" and found.get("class") == "trait":
            self._in = "feature"
        elif tag == "button":
            self._in = "button"
            self.buttons.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("li", "button"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "feature" and self._item:
            self.features[self._item].append(data.strip())
        elif self._in == "button":
            self.buttons[-1] += data.strip()


async def pricing_cards(client) -> PlanCards:
    page = await client.get("/pricing")
    assert page.status_code == 200
    cards = PlanCards()
    cards.feed(page.text)
    return cards


async def test_buy_buttons_name_the_plan_or_pack(client):
    cards = await pricing_cards(client)
    assert "Subscribe to Plus" in cards.buttons and "Subscribe to Pro" in cards.buttons
    assert "Buy 200 credits" in cards.buttons
    assert "Subscribe to" not in cards.buttons


async def test_features_this_server_delivers_are_listed_by_name(client, ctx):
    assert ctx.speech.voices(), "the local voices are installed where the tests run"
    cards = await pricing_cards(client)
    assert cards.features["plus"] == ["Chat", "Voice replies"]
    assert cards.features["pro"] == ["Chat", "Voice replies", "Video replies", "Debate rooms"]


@pytest.mark.parametrize("settings", [{"video": VideoSettings(monthly_minutes={"free": 1})}],
                         indirect=True)
async def test_video_is_not_sold_where_no_paid_tier_may_render_it(client, ctx):
    cards = await pricing_cards(client)
    assert "Video replies" not in cards.features["pro"]
    assert "Voice replies" in cards.features["pro"]
    await buyer(ctx, client)
    catalog = (await client.get("/api/v1/billing/catalog")).json()
    assert all("video" not in plan["features"] for plan in catalog["plans"])


@pytest.mark.parametrize("settings", [{"speech": SpeechSettings(voices=["openai:unset"])}],
                         indirect=True)
async def test_without_a_voice_neither_voice_nor_video_is_sold(client, ctx):
    cards = await pricing_cards(client)
    assert cards.features["plus"] == ["Chat"]
    assert cards.features["pro"] == ["Chat", "Debate rooms"]
    await buyer(ctx, client)
    catalog = (await client.get("/api/v1/billing/catalog")).json()
    assert [plan["features"] for plan in catalog["plans"]] == [
        ["chat"], ["chat"], ["chat", "debates"]]
