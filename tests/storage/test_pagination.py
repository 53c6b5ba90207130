"""Keyset pagination (`storage.pagination`): cursors round-trip exactly and refuse anything
else, and paged walks list every document once, in order, on both engines."""

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from clonechats.storage.pagination import (
    INT_MAX,
    INT_MIN,
    MAX_LENGTH,
    InvalidCursor,
    after,
    decode_cursor,
    encode_cursor,
    fetch_page,
)

MOMENT = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
NEWEST_FIRST = [("created_at", -1), ("_id", -1)]
OLDEST_FIRST = [("created_at", 1), ("_id", 1)]
TIME_AND_ID = (datetime, str)


def raw(text: str) -> str:
    """A cursor made by hand from JSON text, the way a tamperer would."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def walk(collection: Any, query: dict[str, Any], *, order: list[tuple[str, int]],
               kinds: tuple[type, ...], limit: int, **extra: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        items, cursor = await fetch_page(collection, query, order=order, limit=limit,
                                         cursor=cursor, kinds=kinds, **extra)
        pages.append(items)
        if cursor is None:
            return pages
        assert len(pages) < 100, "the walk does not end"


def ids(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [item["_id"] for page in pages for item in page]


# Cursors.

@pytest.mark.parametrize(("values", "kinds"), [
    ((MOMENT,), (datetime,)),
    ((datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),), (datetime,)),
    ((datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
     (datetime, datetime)),
    (("0123456789abcdef01234567",), (str,)),
    (("", "naïve | café ✓ \"quoted\" \\ 🙂"), (str, str)),
    ((0, -1, 42, INT_MIN, INT_MAX), (int, int, int, int, int)),
    ((True, False), (bool, bool)),
    ((True, MOMENT, "abc"), (bool, datetime, str)),
    ((7, MOMENT, "abc"), (int, datetime, str)),
])
def test_each_kind_round_trips_exactly(values: tuple[Any, ...], kinds: tuple[type, ...]) -> None:
    cursor = encode_cursor(*values)
    assert len(cursor) <= MAX_LENGTH
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    decoded = decode_cursor(cursor, kinds)
    assert decoded == values
    assert [type(v) for v in decoded] == [type(v) for v in values]


def test_datetimes_come_back_in_utc_to_the_microsecond() -> None:
    naive = datetime(2024, 5, 6, 7, 8, 9, 123456)
    elsewhere = datetime(2024, 5, 6, 9, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    for value in (naive, elsewhere, MOMENT):
        (decoded,) = decode_cursor(encode_cursor(value), [datetime])
        assert decoded == MOMENT and decoded.utcoffset() == timedelta(0)
        assert decoded.microsecond == 123456


def test_a_cursor_is_opaque_and_short() -> None:
    cursor = encode_cursor(True, MOMENT, "0123456789abcdef01234567")
    assert "2024" not in cursor and "0123456789abcdef" not in cursor
    assert len(cursor) < 100  # fits the admin routes' cursor parameter


@pytest.mark.parametrize("cursor", [
    "nonsense", "not-a-cursor", "!!!!", "a", "abc=", "a b", "é", "x" * (MAX_LENGTH + 1),
    "99999999999999999999.ab", "1700000000000000.0123456789abcdef01234567",
])
def test_garbage_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, TIME_AND_ID)


@pytest.mark.parametrize("text", [
    '{"t":1,"id":"a"}',                 # not a list
    '"abc"', "1", "null", "[]",
    '[1.5,"a"]', '[1e3,"a"]',           # floats, even whole ones
    '[NaN,"a"]', '[Infinity,"a"]',
    '[true,"a"]',                       # a boolean is not a time
    '["2024-05-06T07:08:09+00:00","a"]',
    '[1,2]', '[1,null]', '[1,["a"]]', '[1,{"a":1}]',
])
def test_values_of_the_wrong_kind_are_refused(text: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(raw(text), TIME_AND_ID)


@pytest.mark.parametrize(("text", "kinds"), [
    ("[1]", TIME_AND_ID), ('[1,"a",2]', TIME_AND_ID), ('[1,"a"]', (datetime,)),
    ('[1,"a"]', (int, datetime, str)),
])
def test_the_wrong_number_of_values_is_refused(text: str, kinds: tuple[type, ...]) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(raw(text), kinds)


@pytest.mark.parametrize(("text", "kinds"), [
    ('[253402300800000000,"a"]', TIME_AND_ID),      # 10000-01-01: past datetime's range
    ('[-62135596800000001,"a"]', TIME_AND_ID),      # before year 1
    ("[" + "9" * 300 + ',"a"]', TIME_AND_ID),
    (f"[{INT_MAX + 1}]", (int,)), (f"[{INT_MIN - 1}]", (int,)),
    ("[0]", (bool,)), ("[1]", (bool,)), ("[true]", (int,)), ('["1"]', (int,)),
])
def test_overflow_and_lookalikes_are_refused(text: str, kinds: tuple[type, ...]) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(raw(text), kinds)


def test_only_the_canonical_encoding_is_accepted() -> None:
    micros = (MOMENT - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert decode_cursor(raw(f'[{micros},"abc"]'), TIME_AND_ID) == (MOMENT, "abc")
    for text in (f'[ {micros}, "abc" ]', f'[{micros},"\\u0061bc"]', f'[{micros}.0,"abc"]',
                 f'[0{micros},"abc"]'):
        with pytest.raises(InvalidCursor):
            decode_cursor(raw(text), TIME_AND_ID)
    cursor = encode_cursor(MOMENT, "abcd")
    assert len(cursor) % 4  # its last character carries unused bits
    same_bytes = [cursor[:-1] + c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  if c != cursor[-1] and base64.urlsafe_b64decode(cursor[:-1] + c + "==")
                  == base64.urlsafe_b64decode(cursor + "==")]
    assert same_bytes
    for other in [*same_bytes, cursor + "=" * (-len(cursor) % 4)]:
        with pytest.raises(InvalidCursor):
            decode_cursor(other, TIME_AND_ID)


def test_a_tampered_cursor_is_refused_or_decodes_to_plain_values() -> None:
    cursor = encode_cursor(MOMENT, "0123456789abcdef01234567")
    refused = 0
    for index in range(len(cursor)):
        for replacement in "A_-9z":
            if replacement == cursor[index]:
                continue
            tampered = cursor[:index] + replacement + cursor[index + 1:]
            try:
                moment, item_id = decode_cursor(tampered, TIME_AND_ID)
            except InvalidCursor:
                refused += 1
            else:  # still a well-formed position: only ever a time and a string
                assert isinstance(moment, datetime) and isinstance(item_id, str)
    assert refused > len(cursor)
    for cut in (1, 2, 5, len(cursor) // 2):
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor[:-cut], TIME_AND_ID)


def test_the_error_is_a_400_with_its_code() -> None:
    with pytest.raises(InvalidCursor) as caught:
        decode_cursor("nonsense", TIME_AND_ID)
    assert (caught.value.status, caught.value.code) == (400, "invalid_cursor")
    assert "page" in caught.value.message


def test_encoding_refuses_what_no_cursor_can_hold() -> None:
    for value in (None, 1.5, b"x", ["a"], {"a": 1}):
        with pytest.raises(TypeError):
            encode_cursor(MOMENT, value)
    with pytest.raises(ValueError):
        encode_cursor(INT_MAX + 1)
    with pytest.raises(ValueError):
        encode_cursor()
    with pytest.raises(ValueError):
        encode_cursor("x" * MAX_LENGTH)
    with pytest.raises(TypeError):
        decode_cursor(encode_cursor(1), [float])


def test_after_refuses_a_mismatched_order() -> None:
    with pytest.raises(ValueError):
        after(NEWEST_FIRST, [MOMENT])
    with pytest.raises(ValueError):
        after([("created_at", 0)], [MOMENT])


# Pages, on both engines.

def documents(count: int, *, at: datetime = MOMENT, step: timedelta = timedelta(0),
              **fields: Any) -> list[dict[str, Any]]:
    return [{"_id": f"doc-{n:03d}", "created_at": at + n * step, "n": n, **fields}
            for n in range(count)]


async def test_a_walk_over_55_documents_of_one_moment_lists_each_once(db: Any) -> None:
    await db.items.insert_many(documents(55))
    pages = await walk(db.items, {}, order=NEWEST_FIRST, kinds=TIME_AND_ID, limit=10)
    assert [len(page) for page in pages] == [10, 10, 10, 10, 10, 5]
    assert ids(pages) == [f"doc-{n:03d}" for n in reversed(range(55))]


@pytest.mark.parametrize("limit", [1, 4, 54, 55, 56])
async def test_ties_on_time_are_broken_by_id_in_both_directions(db: Any, limit: int) -> None:
    await db.items.insert_many(documents(55))
    newest = ids(await walk(db.items, {}, order=NEWEST_FIRST, kinds=TIME_AND_ID, limit=limit))
    oldest = ids(await walk(db.items, {}, order=OLDEST_FIRST, kinds=TIME_AND_ID, limit=limit))
    assert newest == [f"doc-{n:03d}" for n in reversed(range(55))]
    assert oldest == list(reversed(newest))


async def test_times_then_ids_descending_and_ascending(db: Any) -> None:
    docs = documents(12, step=timedelta(seconds=1))
    for doc in docs[6:]:  # the later half shares one moment
        doc["created_at"] = MOMENT + timedelta(hours=1)
    await db.items.insert_many(docs)
    expected = await db.items.find({}).sort(NEWEST_FIRST).to_list()
    newest = await walk(db.items, {}, order=NEWEST_FIRST, kinds=TIME_AND_ID, limit=5)
    assert ids(newest) == [d["_id"] for d in expected]
    assert ids(newest)[:6] == [f"doc-{n:03d}" for n in (11, 10, 9, 8, 7, 6)]
    oldest = await walk(db.items, {}, order=OLDEST_FIRST, kinds=TIME_AND_ID, limit=5)
    assert ids(oldest) == list(reversed(ids(newest)))


async def test_microseconds_the_database_dropped_do_not_lose_or_repeat_items(db: Any) -> None:
    # Stored to the millisecond: several of these collapse onto one stored moment.
    docs = documents(30, step=timedelta(microseconds=333))
    await db.items.insert_many(docs)
    for order in (NEWEST_FIRST, OLDEST_FIRST):
        expected = await db.items.find({}).sort(order).to_list()
        pages = await walk(db.items, {}, order=order, kinds=TIME_AND_ID, limit=4)
        assert ids(pages) == [d["_id"] for d in expected]
        assert sorted(ids(pages)) == sorted(d["_id"] for d in docs)


async def test_pinned_first_then_newest(db: Any) -> None:
    docs = documents(21, step=timedelta(minutes=1))
    for doc in docs:
        doc["pinned"] = doc["n"] % 3 == 0
        if doc["n"] >= 15:  # a run of equal times across the pinned boundary
            doc["created_at"] = MOMENT + timedelta(days=1)
    await db.items.insert_many(docs)
    order = [("pinned", -1), ("created_at", -1), ("_id", -1)]
    kinds = (bool, datetime, str)
    expected = await db.items.find({}).sort(order).to_list()
    assert [d["pinned"] for d in expected] == [True] * 7 + [False] * 14
    for limit in (1, 2, 3, 5, 7, 20):
        pages = await walk(db.items, {}, order=order, kinds=kinds, limit=limit)
        assert ids(pages) == [d["_id"] for d in expected]


async def test_a_count_then_time_order_with_the_query_kept(db: Any) -> None:
    docs = documents(25, step=timedelta(seconds=1))
    for doc in docs:
        doc["favourites"] = doc["n"] % 4
        doc["owner"] = "ann" if doc["n"] % 5 else "bob"
    await db.items.insert_many(docs)
    order = [("favourites", -1), ("created_at", -1), ("_id", -1)]
    query = {"owner": "ann", "$or": [{"favourites": {"$gt": 0}}, {"n": {"$lt": 10}}]}
    expected = await db.items.find(query).sort(order).to_list()
    assert 0 < len(expected) < 25
    pages = await walk(db.items, query, order=order, kinds=(int, datetime, str), limit=3)
    assert ids(pages) == [d["_id"] for d in expected]
    assert all(item["owner"] == "ann" for page in pages for item in page)


async def test_a_single_integer_key_and_a_clashing_query(db: Any) -> None:
    await db.items.insert_many(documents(9))
    pages = await walk(db.items, {"n": {"$gte": 2}}, order=[("n", -1)], kinds=(int,),
                       limit=3)
    assert [item["n"] for page in pages for item in page] == [8, 7, 6, 5, 4, 3, 2]


async def test_a_projection_is_applied_and_the_page_ends_cleanly(db: Any) -> None:
    await db.items.insert_many(documents(6, secret="hidden"))
    first, cursor = await fetch_page(db.items, {}, order=NEWEST_FIRST, limit=3, cursor=None,
                                     kinds=TIME_AND_ID, projection={"secret": 0})
    assert cursor is not None and all("secret" not in item for item in first)
    second, cursor = await fetch_page(db.items, {}, order=NEWEST_FIRST, limit=3, cursor=cursor,
                                      kinds=TIME_AND_ID, projection={"secret": 0})
    assert cursor is None  # exactly full: no empty page after it
    assert ids([first, second]) == [f"doc-{n:03d}" for n in (5, 4, 3, 2, 1, 0)]
    assert await fetch_page(db.empty, {}, order=NEWEST_FIRST, limit=3, cursor="",
                            kinds=TIME_AND_ID) == ([], None)


async def test_a_bad_cursor_reads_nothing_and_is_refused(db: Any) -> None:
    await db.items.insert_many(documents(3))
    good = encode_cursor(MOMENT)  # one value where the order has two keys
    for cursor in (good, "nonsense", encode_cursor("abc", MOMENT)):
        with pytest.raises(InvalidCursor):
            await fetch_page(db.items, {}, order=NEWEST_FIRST, limit=2, cursor=cursor,
                             kinds=TIME_AND_ID)
    with pytest.raises(ValueError):
        await fetch_page(db.items, {}, order=NEWEST_FIRST, limit=0, cursor=None,
                         kinds=TIME_AND_ID)


async def test_a_sort_key_of_the_wrong_kind_is_a_programming_error(db: Any) -> None:
    await db.items.insert_many(documents(3))
    with pytest.raises(TypeError):
        await fetch_page(db.items, {}, order=[("n", -1), ("_id", -1)], limit=1, cursor=None,
                         kinds=TIME_AND_ID)
