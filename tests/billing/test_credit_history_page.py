"""The billing page's credit history: one net row per reply, each change named in words."""

from html.parser import HTMLParser

from clonechats.billing import ledger
from clonechats.chat import metering
from tests.billing.helpers import buyer


class LedgerRows(HTMLParser):
    """Each ledger row as {kind, what, net, parts}, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self._cell = -1
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and "ledger-entry" in (found.get("class") or ""):
            self.rows.append({"kind": found.get("data-kind"), "what": "", "net": "",
                              "parts": []})
            self._cell = -1
        elif tag == "td" and self.rows:
            self._cell += 1
        elif tag == "li" and self.rows and self._cell == 1:
            self.rows[-1]["parts"].append("")
            self._in = "part"
        elif tag == "summary":
            self._in = "summary"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("li", "summary"):
            self._in = None
        if tag == "tbody":
            self._cell = -1

    def handle_data(self, data: str) -> None:
        if not self.rows or self._cell < 0:
            return
        row, text = self.rows[-1], data.strip()
        if self._in == "part":
            row["parts"][-1] = f"{row['parts'][-1]} {text}".strip()
        elif self._cell == 1 and not row["parts"] and text:
            row["what"] = f"{row['what']} {text}".strip()
        elif self._cell == 2:
            row["net"] += text


async def grant(ctx, user: dict, amount: int, reason: str) -> None:
    await ledger.apply(ctx.db, user_id=user["_id"], delta=amount, kind=ledger.GRANT,
                       reason=reason, idempotency_key=f"{reason}:{user['_id']}",
                       now=ctx.clock.now())


async def history(client) -> list[dict]:
    page = await client.get("/billing")
    assert page.status_code == 200
    rows = LedgerRows()
    rows.feed(page.text)
    return rows.rows


async def test_a_reply_is_one_net_row_with_its_parts_in_a_details_view(client, ctx):
    user = await buyer(ctx, client)
    await grant(ctx, user, 50, "welcome")
    ctx.clock.advance(minutes=1)
    await metering.reserve(ctx, user_id=user["_id"], message_id="m1", amount=12,
                           persona_name="Ada")
    ctx.clock.advance(seconds=5)
    assert await metering.settle(ctx, user_id=user["_id"], message_id="m1", reserved=12,
                                 charged=3) == 3

    rows = await history(client)
    assert [(r["kind"], r["what"], r["net"]) for r in rows] == [
        ("reply", "Reply from Ada", "-3"),
        ("grant", "Welcome credits", "+50"),
    ]
    assert rows[0]["parts"] == ["Reserved when the reply started: -12",
                                "Unused part returned: +9"]
    page = (await client.get("/billing")).text
    assert "<details" in page and "(reserved)" not in page and ">welcome<" not in page
    assert await ledger.applied_sum(ctx.db, user["_id"]) == 47


async def test_a_reply_that_used_its_whole_reservation_and_other_grants(client, ctx):
    user = await buyer(ctx, client)
    await grant(ctx, user, 20, "trial")
    ctx.clock.advance(minutes=1)
    await ledger.apply(ctx.db, user_id=user["_id"], delta=200, kind=ledger.GRANT,
                       reason="Credit pack: 200 credits", idempotency_key="order:o1",
                       now=ctx.clock.now(), details={"order_id": "o1"})
    ctx.clock.advance(minutes=1)
    await metering.reserve(ctx, user_id=user["_id"], message_id="m2", amount=5,
                           persona_name="Bo")
    await metering.settle(ctx, user_id=user["_id"], message_id="m2", reserved=5, charged=5)

    rows = await history(client)
    assert [(r["kind"], r["what"], r["net"]) for r in rows] == [
        ("reply", "Reply from Bo", "-5"),
        ("grant", "Credit pack: 200 credits", "+200"),
        ("grant", "Free trial credits", "+20"),
    ]
    assert rows[0]["parts"] == ["Reserved when the reply started: -5"]


async def test_a_debate_turn_is_one_net_row_too(client, ctx):
    from clonechats.rooms import metering as room_metering

    user = await buyer(ctx, client)
    await grant(ctx, user, 30, "welcome")
    ctx.clock.advance(minutes=1)
    await room_metering.reserve(ctx, owner_id=user["_id"], key="room1:turn1", amount=10,
                                what="Ada's turn")
    await room_metering.settle(ctx, owner_id=user["_id"], key="room1:turn1", reserved=10,
                               charged=4)
    rows = await history(client)
    assert [(r["kind"], r["what"], r["net"]) for r in rows[:1]] == [
        ("reply", "Debate: Ada's turn", "-4")]
    assert rows[0]["parts"] == ["Reserved when the reply started: -10",
                                "Unused part returned: +6"]
