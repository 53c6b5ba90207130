"""Keyed one-way hashes for identifiers we must recognise but never keep (IPs, blocked emails).

HMAC-SHA256 with the server secret and a purpose label: the same address hashes differently
for different purposes, and without the secret a hash cannot be checked against a guess.
"""

import hashlib
import hmac


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def hash_ip(secret: str, ip: str | None) -> str | None:
    return None if not ip else keyed_hash(secret, "ip", ip)


def hash_email(secret: str, email: str) -> str:
    return keyed_hash(secret, "email", email.casefold())
