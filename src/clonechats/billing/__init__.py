"""Billing: plans, credit packs, orders, the credits ledger, webhooks."""
