"""Payment webhooks: verify the raw body, log every delivery, process each event once.

`receive(ctx, provider, headers, body)` is the one path for every delivery, whether it came
over HTTP from Cashfree or from the sandbox's delivery job:
1. the signature is checked on the raw bytes (constant time, each accepted secret), then the
   timestamp window, and only then is the JSON parsed;
2. every delivery is logged in `webhook_deliveries` (provider, event type, ids, a SHA-256 of the
   body, whether the signature was valid, the result, the answer), kept 7 years; the body itself
   is not stored;
3. the event is recorded once in `webhook_events` (key: the provider's `x-idempotency-key`, or
   the body digest); a replay of a processed event is answered 200 `duplicate` at once;
4. a payment success for a known order whose amount and currency match exactly settles it
   through `fulfilment`, whose conditional transition grants the credits once however many
   deliveries race. When the provider must confirm it first (the default), the answer does not
   wait on the provider: the delivery is acknowledged (200 `queued`) and a reconciliation job
   asks the provider and settles the order (and keeps asking, backing off, while it is open).
   A failed attempt is likewise checked with the provider in that job, never inline.
Answers: 200 accepted / queued / duplicate / ignored; 400 malformed; 401 bad signature or stale
timestamp; 404 unknown order; 422 amount mismatch. Nothing in the request path calls the
payment provider, so acknowledgements stay fast while the provider is slow or down.
Both collections are read and written through `webhook_log.py`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.billing import fulfilment, orders, refunds, webhook_log
from clonechats.billing.checkout import schedule_reconcile
from clonechats.billing.orders import Order
from clonechats.billing.retention import retain_until
from clonechats.errors import AppError
from clonechats.providers.errors import ProviderError
from clonechats.providers.payments import signing
from clonechats.providers.payments.base import PAID, header
from clonechats.providers.payments.signing import WebhookRejected

if TYPE_CHECKING:
    from clonechats.context import Ctx


CONFIRM = "billing.confirm_webhook"
MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class WebhookOutcome:
    """How a webhook delivery was handled: the HTTP status and body the provider gets."""

    status: int
    result: str  # accepted, duplicate, ignored, or an error code
    message: str = ""

    def body(self) -> dict[str, Any]:
        if self.status == 200:
            return {"status": self.result}
        return {"error": {"code": self.result, "message": self.message}}


@dataclass
class Delivery:
    provider: str
    received_at: datetime
    body_sha256: str
    event_id: str
    signature_valid: bool = False
    event: signing.WebhookEvent | None = None
    signed_at: datetime | None = None


async def receive(ctx: Ctx, provider_name: str, headers: Mapping[str, str],
                  body: bytes) -> WebhookOutcome:
    now = ctx.clock.now()
    digest = hashlib.sha256(body).hexdigest()
    event_id = (header(headers, signing.IDEMPOTENCY_KEY) or "")[:200] or f"sha256:{digest}"
    delivery = Delivery(provider=provider_name, received_at=now, body_sha256=digest,
                        event_id=event_id)
    try:
        outcome = await _process(ctx, delivery, headers, body)
    except WebhookRejected as exc:
        outcome = WebhookOutcome(exc.status, exc.code, exc.message)
    await _log(ctx, delivery, headers, len(body), outcome)
    return outcome


async def _process(ctx: Ctx, delivery: Delivery, headers: Mapping[str, str],
                   body: bytes) -> WebhookOutcome:
    if len(body) > MAX_BODY:
        raise WebhookRejected("payload_too_large", "The webhook body is too large.", 413)
    try:
        provider = ctx.payments.get(delivery.provider)
    except AppError:
        raise WebhookRejected("unknown_provider", "There is no such payment provider.",
                              404) from None
    billing = ctx.settings.billing
    timestamp = signing.check_signature(headers, body, secrets=provider.webhook_secrets())
    delivery.signature_valid = True
    delivery.signed_at = signing.check_timestamp(
        timestamp, now=delivery.received_at,
        max_age=timedelta(seconds=billing.webhook_max_age_seconds),
        max_future=timedelta(seconds=billing.webhook_max_future_seconds))
    delivery.event = event = signing.parse_event(body)
    key = f"{delivery.provider}:{delivery.event_id}"
    seen = await webhook_log.claim_event(ctx.db, key, event_type=event.type,
                                         first_seen_at=delivery.received_at,
                                         retain_until=retain_until(delivery.received_at))
    if seen is not None and seen.get("status") == "done":
        return WebhookOutcome(200, "duplicate")
    outcome = await _handle(ctx, delivery, event)
    if outcome.status == 200:
        await webhook_log.finish_event(ctx.db, key, result=outcome.result)
    else:
        await webhook_log.release_event(ctx.db, key)
    return outcome


async def _handle(ctx: Ctx, delivery: Delivery, event: signing.WebhookEvent) -> WebhookOutcome:
    if event.type == signing.REFUND_STATUS:
        return await _refund_event(ctx, delivery, event)
    if event.type not in signing.PAYMENT_EVENTS:
        return WebhookOutcome(200, "ignored")
    order = await orders.get(ctx.db, event.order_id) if event.order_id else None
    if order is None or order["provider"] != delivery.provider:
        return WebhookOutcome(404, "unknown_order", "No order with this id was made here.")
    if not fulfilment.amounts_match(order, event.order_amount, event.order_currency):
        return WebhookOutcome(422, "amount_mismatch",
                              "The amount or currency differs from the order.")
    if event.type != signing.PAYMENT_SUCCESS or event.payment_status != "SUCCESS":
        return await _attempt_failed(ctx, order, delivery)
    if order["status"] in (orders.PAID, orders.REFUNDED):
        if order["status"] == orders.PAID and order["fulfilled_at"] is None:
            await fulfilment.fulfil(ctx, order)
        return WebhookOutcome(200, "duplicate")
    if order["status"] == orders.FAILED:
        note = "a payment succeeded after the order had failed: refund it"
        await orders.set_fields(ctx.db, order["_id"], {"needs_attention": note,
                                                      "late_payment_id": event.payment_id},
                                now=ctx.clock.now())
        return WebhookOutcome(200, "late_payment")
    if ctx.settings.billing.confirm_with_provider:
        await _confirm_later(ctx, order, delivery)
        return WebhookOutcome(200, "queued")
    _, moved = await fulfilment.settle_paid(ctx, order["_id"], payment_id=event.payment_id,
                                            via="webhook")
    return WebhookOutcome(200, "accepted" if moved else "duplicate")


async def _confirm_later(ctx: Ctx, order: Order, delivery: Delivery) -> None:
    """Ask the provider about the order in a job (`billing.confirm_webhook`), right away."""
    event = delivery.event
    await ctx.enqueue(CONFIRM, {"order_id": order["_id"],
                                "payment_id": event.payment_id if event else None},
                      dedupe_key=f"{CONFIRM}:{delivery.provider}:{delivery.event_id}")


class ProviderNotAnswering(RuntimeError):
    """The provider could not be asked; the job runner retries with backoff."""

    retryable = True


async def confirm_webhook(payload: dict[str, Any], ctx: Ctx) -> None:
    """The `billing.confirm_webhook` job: settle an order a webhook spoke of from the
    provider's own record; while the provider does not report it settled, reconciliation
    asks again later (15 min, 30 min, ...)."""
    order = await orders.get(ctx.db, payload["order_id"])
    if order is None or order["status"] != orders.CREATED:
        return
    try:
        remote = await ctx.payments.get(order["provider"]).fetch_order(order["_id"])
    except ProviderError as exc:
        raise ProviderNotAnswering(str(exc)) from None
    if remote.status == PAID and fulfilment.amounts_match(order, remote.amount,
                                                          remote.currency):
        await fulfilment.settle_paid(ctx, order["_id"], payment_id=payload.get("payment_id"),
                                     via="webhook")
        return
    updated = await fulfilment.apply_remote(ctx, order, remote, via="webhook")
    if updated["status"] == orders.CREATED:
        await schedule_reconcile(ctx, order["_id"], attempt=1)


async def _attempt_failed(ctx: Ctx, order: Order, delivery: Delivery) -> WebhookOutcome:
    """A failed or abandoned attempt: the order fails only once the provider says it is over
    (a Cashfree order takes further attempts until it expires), which the job asks."""
    if order["status"] != orders.CREATED:
        return WebhookOutcome(200, "duplicate")
    await _confirm_later(ctx, order, delivery)
    return WebhookOutcome(200, "accepted")


async def _refund_event(ctx: Ctx, delivery: Delivery,
                        event: signing.WebhookEvent) -> WebhookOutcome:
    order = await orders.get(ctx.db, event.order_id) if event.order_id else None
    if order is None or order["provider"] != delivery.provider:
        return WebhookOutcome(404, "unknown_order", "No order with this id was made here.")
    refund = order.get("refund") or {}
    if (event.refund_id is None or refund.get("refund_id") != event.refund_id
            or refund.get("status") != refunds.PENDING):
        return WebhookOutcome(200, "duplicate" if refund.get("refund_id") == event.refund_id
                              else "ignored")
    if event.refund_status == "SUCCESS":
        await refunds.complete_refund(ctx, order["_id"], event.refund_id,
                                      provider_refund_id=None)
    elif event.refund_status in ("FAILED", "CANCELLED"):
        await refunds.fail_refund(ctx, order["_id"], event.refund_id,
                                  detail=event.refund_status)
    return WebhookOutcome(200, "accepted")


async def _log(ctx: Ctx, delivery: Delivery, headers: Mapping[str, str], size: int,
               outcome: WebhookOutcome) -> None:
    event = delivery.event
    attempt = header(headers, signing.ATTEMPT) or ""
    await webhook_log.log_delivery(ctx.db, {
        "_id": "whd_" + secrets.token_hex(12), "provider": delivery.provider,
        "received_at": delivery.received_at, "retain_until": retain_until(delivery.received_at),
        "event_id": delivery.event_id, "event_type": event.type if event else None,
        "order_id": event.order_id if event else None,
        "provider_payment_id": event.payment_id if event else None,
        "refund_id": event.refund_id if event else None,
        "body_sha256": delivery.body_sha256, "body_bytes": size,
        "signature_valid": delivery.signature_valid, "signed_at": delivery.signed_at,
        "attempt": int(attempt) if attempt.isdigit() and len(attempt) < 6 else None,
        "result": outcome.result, "status_code": outcome.status,
    })

