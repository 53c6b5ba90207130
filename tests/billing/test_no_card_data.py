"""No card numbers, CVVs, UPI PINs or bank credentials are ever stored: the order has no field
for them, and after a full purchase no stored document holds a card-like number."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from clonechats.billing import checkout, orders
from clonechats.billing.plans import Item
from tests.billing.card_scan import card_like, luhn_ok, scan_database
from tests.billing.helpers import buyer, choose, order

FORBIDDEN_FIELDS = ("card", "cvv", "cvc", "pan", "pin", "upi", "iban", "account_number",
                    "ifsc", "expiry_month")


def test_the_scanner_knows_card_numbers_from_other_numbers():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert card_like("card 4111 1111 1111 1111 here") == ["4111111111111111"]
    assert card_like("5555-5555-5555-4444") == ["5555555555554444"]
    assert card_like("ts 1772366400000 and id 123") == []  # a millisecond timestamp
    assert card_like("4111111111111112") == []  # fails the Luhn check


async def test_a_full_purchase_stores_no_card_like_number(client, ctx, run_jobs):
    await buyer(ctx, client)
    paid = (await order(client)).json()["order_id"]
    await choose(client, paid, "pay")
    plan = (await order(client, "plus")).json()["order_id"]
    await choose(client, plan, "pay")
    failed = (await order(client)).json()["order_id"]
    await choose(client, failed, "fail")
    await run_jobs()
    assert await ctx.db.orders.count_documents({"status": "paid"}) == 2

    assert await scan_database(ctx.db) == []

    document = await orders.get(ctx.db, paid)
    assert not [key for key in document if any(word in key for word in FORBIDDEN_FIELDS)]

    # The scanner does find one when it is there.
    await ctx.db.orders.update_one({"_id": paid}, {"$set": {"note": "4111 1111 1111 1111"}})
    assert await scan_database(ctx.db) == [("orders", ".note", "4111111111111111")]


def test_an_order_document_has_no_field_for_payment_instruments():
    item = Item(id="pack", kind="pack", name="Pack", tier="plus", credits=1, prices={})
    document = checkout.new_order(order_id="ord_x", user_id="u", item=item,
                                  amount=Decimal("1.00"), currency="INR", provider="sandbox",
                                  now=datetime(2026, 1, 1, tzinfo=UTC), ttl=timedelta(hours=1))
    assert not [key for key in document if any(word in key for word in FORBIDDEN_FIELDS)]
