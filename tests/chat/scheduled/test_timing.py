"""Time zones and DST: local times that do not exist or happen twice, and the UTC stored."""

from datetime import UTC, datetime

import pytest

from clonechats.chat.scheduled import timing
from tests.chat.scheduled.conftest import schedule, scheduled_item

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def resolve(value: str, zone: str, fold: int = 0) -> datetime:
    return timing.resolve_send_at(value, time_zone=zone, now=NOW, max_ahead_days=365, fold=fold)


def test_a_local_time_is_read_in_its_zone_and_stored_in_utc():
    assert resolve("2026-06-01T09:00", "Europe/London") == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert resolve("2026-03-02T09:00", "Asia/Kolkata") == datetime(2026, 3, 2, 3, 30, tzinfo=UTC)
    # An offset in the value wins over the zone.
    assert resolve("2026-06-01T09:00+02:00", "Asia/Kolkata") == datetime(2026, 6, 1, 7, 0,
                                                                       tzinfo=UTC)


@pytest.mark.parametrize(("zone", "local", "first_valid"), [
    ("Europe/London", "2026-03-29T01:30", "2026-03-29T02:00:00+01:00"),
    ("America/New_York", "2026-03-08T02:15", "2026-03-08T03:00:00-04:00"),
    ("Australia/Sydney", "2026-10-04T02:59", "2026-10-04T03:00:00+11:00"),
])
def test_a_time_the_clocks_skip_is_refused_with_the_first_valid_time(zone, local, first_valid):
    with pytest.raises(timing.NonexistentLocalTime) as refused:
        resolve(local, zone)
    assert refused.value.status == 422
    assert refused.value.details == {"suggested_send_at": first_valid}
    assert resolve(first_valid, zone) == datetime.fromisoformat(first_valid).astimezone(UTC)


def test_a_time_that_happens_twice_is_the_first_unless_fold_1_asks_for_the_second():
    first = resolve("2026-10-25T01:30", "Europe/London")
    second = resolve("2026-10-25T01:30", "Europe/London", fold=1)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # still summer time (+01:00)
    assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # winter time (+00:00)
    ny = resolve("2026-11-01T01:30", "America/New_York", fold=1)
    assert ny == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_the_same_local_time_moves_in_utc_across_a_dst_change():
    before = resolve("2026-03-28T09:00", "Europe/London")
    after = resolve("2026-03-30T09:00", "Europe/London")
    assert (before.hour, after.hour) == (9, 8)


def test_bad_zones_and_values():
    for zone in ("Nowhere/Land", "../etc/passwd", "", "x" * 80):
        with pytest.raises(timing.InvalidTimeZone):
            timing.zone(zone or "bad zone")
    for value in ("", "soon", "2026-13-01T09:00", "2026-03-01T09:00:00+25:00"):
        with pytest.raises(timing.InvalidSendAt):
            resolve(value, "UTC")


async def test_the_api_explains_a_skipped_time_and_stores_nothing(ann, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    response = await schedule(ann, conversation["id"], send_at="2026-03-29T01:30",
                              time_zone="Europe/London")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "nonexistent_local_time" and "02:00" in error["message"]
    assert await ctx.db.scheduled_messages.count_documents({}) == 0


async def test_the_api_takes_the_second_of_a_repeated_time_when_asked(ann, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    first = await scheduled_item(ann, conversation["id"], send_at="2026-10-25T01:30",
                                 time_zone="Europe/London")
    second = await scheduled_item(ann, conversation["id"], send_at="2026-10-25T01:30",
                                  time_zone="Europe/London", fold=1)
    assert first["send_at"] == "2026-10-25T00:30:00Z"
    assert second["send_at"] == "2026-10-25T01:30:00Z"
    assert first["send_at_local"] == "2026-10-25T01:30:00+01:00"
    assert second["send_at_local"] == "2026-10-25T01:30:00+00:00"


async def test_delivery_happens_at_the_utc_instant_across_the_change(ann, ctx, clock, run_jobs,
                                                                     fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    item = await scheduled_item(ann, conversation["id"], send_at="2026-03-29T09:00",
                                time_zone="Europe/London")
    assert item["send_at"] == "2026-03-29T08:00:00Z"
    clock.advance(days=27, hours=19, minutes=59)  # 07:59 UTC = 08:59 local after the change
    await run_jobs()
    assert (await ctx.db.scheduled_messages.find_one({"_id": item["id"]}))["status"] == "pending"
    clock.advance(minutes=1)
    await run_jobs()
    assert (await ctx.db.scheduled_messages.find_one({"_id": item["id"]}))["status"] == \
        "delivered"
