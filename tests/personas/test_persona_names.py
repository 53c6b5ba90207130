"""Persona names cannot impersonate the service or hide tricks: reserved names, invisible and
direction characters, and Latin words with look-alike letters are refused with 422."""

import pytest

from clonechats.personas.names import problem
from tests.factories import csrf, log_in, make_user

REFUSED = [
    "Official Support", "official  support!", "OFFICIAL-SUPPORT", "Admin", "Adm1n",
    "Support Staff", "Clone Chats", "Оfficial Support",  # Cyrillic О
    "Ada\u200bLovelace", "Ada\u202eecalevol", "Ada\u2066x\u2069", "P\u00adaypal",
    "Раypal",  # Cyrillic Р inside a Latin word
]
ALLOWED = ["Ada", "Marie Curie", "Тарас Шевченко", "Σωκράτης", "李白", "Support Bot Ada",
           "José", "Zoë", "O'Brien", "R2-D2"]


@pytest.mark.parametrize("name", REFUSED)
def test_refused_names(name):
    assert problem(name) is not None


@pytest.mark.parametrize("name", ALLOWED)
def test_allowed_names(name):
    assert problem(name) is None


async def test_the_api_refuses_them_on_create_and_rename(client, ctx):
    await make_user(ctx, email="p@example.com")
    await log_in(client, email="p@example.com")
    refused = await client.post("/api/v1/personas", headers=csrf(client),
                                json={"name": "Official Support"})
    assert refused.status_code == 422
    assert "reserved" in refused.json()["error"]["message"]
    made = await client.post("/api/v1/personas", headers=csrf(client), json={"name": "Ada"})
    persona_id = made.json()["persona"]["id"]
    renamed = await client.patch(f"/api/v1/personas/{persona_id}", headers=csrf(client),
                                 json={"name": "Ada\u200b"})
    assert renamed.status_code == 422
    assert (await ctx.db.personas.find_one({"_id": persona_id}))["name"] == "Ada"
