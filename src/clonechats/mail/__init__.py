"""Transactional email: which emails exist, rendering them, and queueing them for delivery."""
