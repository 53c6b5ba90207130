"""Stored times as pages show them: UTC, whatever form they were stored in."""

from datetime import UTC, datetime, timedelta, timezone

from clonechats.web.timestamps import moment

EXPECTED = {"iso": "2026-03-01T09:05:00Z", "text": "1 Mar 2026, 09:05 UTC"}


def test_datetimes_and_iso_strings_become_the_same_utc_moment() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    for value in (datetime(2026, 3, 1, 9, 5, tzinfo=UTC), datetime(2026, 3, 1, 9, 5),
                  datetime(2026, 3, 1, 14, 35, tzinfo=india), "2026-03-01T09:05:00+00:00",
                  "2026-03-01T09:05:00Z", "2026-03-01T14:35:00+05:30"):
        assert moment(value) == EXPECTED, value


def test_anything_else_is_no_moment() -> None:
    for value in (None, "", "yesterday", 12, "2026-13-01T00:00:00"):
        assert moment(value) is None, value
