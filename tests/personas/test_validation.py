"""Every limit on a persona's fields answers 422 with a message that names the field and the
limit, and stores nothing."""

import pytest

TOO_LONG = [
    ("name", "x" * 61, "the name must be 1 to 60 characters long"),
    ("name", "   ", "the name must be 1 to 60 characters long"),
    ("tagline", "t" * 141, "the tagline must be at most 140 characters long"),
    ("tone", "t" * 61, "the tone must be at most 60 characters long"),
    ("system_prompt", "s" * 4001, "the system prompt must be at most 4000 characters long"),
    ("greeting", "g" * 1001, "the greeting must be at most 1000 characters long"),
    ("example_dialogue", "e" * 4001,
     "the example dialogue must be at most 4000 characters long"),
    ("traits", [f"tag{i}" for i in range(13)], "a persona can have at most 12 traits"),
    ("traits", ["k" * 31], "each trait must be 1 to 30 characters long"),
    ("traits", ["kind", "  "], "each trait must be 1 to 30 characters long"),
    ("traits", "kind, warm", "traits must be a list of short tags"),
    ("sliders", {"warmth": 101}, "the warmth slider must be a whole number from 0 to 100"),
    ("sliders", {"humour": -1}, "the humour slider must be a whole number from 0 to 100"),
    ("sliders", {"verbosity": 50.5},
     "the verbosity slider must be a whole number from 0 to 100"),
    ("sliders", {"curiosity": "50"},
     "the curiosity slider must be a whole number from 0 to 100"),
    ("sliders", {"charm": 50}, 'there is no slider called "charm"'),
    ("name", "two\nlines", "the name must be a single line"),
    ("tagline", "bell\x07", "the tagline must not contain control characters"),
]


@pytest.mark.parametrize(("field", "value", "message"), TOO_LONG)
async def test_each_limit_has_a_clear_message(ann, ctx, field, value, message):
    body = {"name": "Ada", field: value}
    response = await ann.send("POST", "/api/v1/personas", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert message in error["message"]
    assert f"({field})" in error["message"]
    assert await ctx.db.personas.count_documents({}) == 0


async def test_values_at_the_limits_are_accepted(ann):
    persona = await ann.create(
        name="n" * 60, tagline="t" * 140, tone="o" * 60, system_prompt="s" * 4000,
        greeting="g" * 1000, example_dialogue="e" * 4000,
        traits=[f"trait {i:02d}" + "x" * 20 for i in range(12)],
        sliders={"warmth": 0, "humour": 100},
    )
    assert len(persona["name"]) == 60 and len(persona["traits"]) == 12
    assert persona["sliders"] == {"warmth": 0, "humour": 100, "formality": 50,
                                  "verbosity": 50, "curiosity": 50}


async def test_traits_are_trimmed_and_deduplicated_ignoring_case(ann):
    persona = await ann.create(traits=["  Kind ", "kind", "KIND", "dry   wit", "Dry wit"])
    assert persona["traits"] == ["Kind", "dry wit"]


async def test_unknown_fields_and_bad_visibility_are_refused(ann, ctx):
    extra = await ann.send("POST", "/api/v1/personas", json={"name": "Ada", "owner_id": "x"})
    assert extra.status_code == 422 and "(owner_id)" in extra.json()["error"]["message"]
    visibility = await ann.send("POST", "/api/v1/personas",
                                json={"name": "Ada", "visibility": "friends"})
    assert visibility.status_code == 422
    assert "(visibility)" in visibility.json()["error"]["message"]
    assert await ctx.db.personas.count_documents({}) == 0


async def test_a_bad_update_changes_nothing(ann, ctx):
    persona = await ann.create(tagline="Before")
    for body in ({"tagline": "t" * 141}, {"name": None}, {"sliders": {"warmth": 500}},
                 {"tagline": "After", "sliders": {"warmth": 500}}):
        response = await ann.send("PATCH", f"/api/v1/personas/{persona['id']}", json=body)
        assert response.status_code == 422, body
    stored = await ctx.db.personas.find_one({"_id": persona["id"]})
    assert stored["tagline"] == "Before" and stored["sliders"]["warmth"] == 50
