"""The upload quota is per account, whatever the number of personas: an upload that would go
over it is refused (403 `storage_quota_exceeded`) and leaves no file or document behind; a
replaced avatar does not count against its replacement."""

from pathlib import Path

import pytest

from clonechats.settings import MediaSettings, Settings
from tests.conftest import FAST_HASHING, make_settings
from tests.media.samples import image_bytes
from tests.media.test_uploads import ann, stored_files, upload

__all__ = ["ann"]
QUOTA = 6_000


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         media=MediaSettings(account_quota_bytes=QUOTA))


def noisy_png(seed: int) -> bytes:
    """A PNG that does not compress much (so each upload takes a known share of the quota)."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    picture = Image.new("RGB", (40, 40))
    picture.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                     for _ in range(1600)])
    import io

    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


async def test_the_quota_spans_every_persona_of_the_account(ann, ctx, settings):
    sizes, refused = [], None
    for n in range(12):
        made = await ann.send("POST", "/api/v1/personas", json={"name": f"P{n}"})
        persona_id = made.json()["persona"]["id"]
        response = await upload(ann, persona_id, "images", noisy_png(n))
        if response.status_code != 201:
            refused = response
            break
        sizes.append(sum(m["size_bytes"] for m in await ctx.db.media.find({}).to_list()))
    assert refused is not None, "twelve personas' uploads all fitted one small quota"
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "storage_quota_exceeded"
    stored = await ctx.db.media.find({"owner_id": ann.id}).to_list()
    assert sum(m["size_bytes"] for m in stored) <= QUOTA
    assert len(stored_files(settings)) == len(stored)  # the refused file is gone too


async def test_replacing_an_avatar_at_the_quota_still_works(ann, ctx):
    made = await ann.send("POST", "/api/v1/personas", json={"name": "Ava"})
    persona_id = made.json()["persona"]["id"]
    first = await upload(ann, persona_id, "avatar", image_bytes("PNG", (40, 40)))
    assert first.status_code in (200, 201), first.text
    again = await upload(ann, persona_id, "avatar", image_bytes("PNG", (40, 40),
                                                               colour=(1, 2, 3)))
    assert again.status_code in (200, 201), again.text
