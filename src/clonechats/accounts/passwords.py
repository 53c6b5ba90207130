"""Password policy (NIST SP 800-63B) and bcrypt hashing, always off the event loop.

Policy: 8 to 1,024 characters after Unicode NFKC normalisation, not on the packaged list of
common passwords (zxcvbn's 30,000), not the account's own email or the service name. No
composition rules. bcrypt only reads 72 bytes, so every password is first reduced to a
base64 SHA-256 digest (44 bytes, no NUL): long and multi-byte passphrases keep all their
strength and never hit bcrypt's limit.
"""

import asyncio
import base64
import functools
import hashlib
import unicodedata

import bcrypt

from clonechats.errors import AppError

MIN_LENGTH = 8
MAX_LENGTH = 1024
_DUMMY_HASH_CACHE: dict[int, bytes] = {}


class WeakPassword(AppError):
    code = "weak_password"
    status = 422


@functools.cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, *, email: str | None = None,
                 context_words: tuple[str, ...] = ("clonechats", "clone chats")) -> str:
    """Return the normalised password, or raise WeakPassword with a message a person can act on."""
    candidate = normalise(password)
    if len(candidate) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    if len(candidate) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    lowered = candidate.casefold()
    if lowered in common_passwords() or lowered.strip("0123456789!") in common_passwords():
        raise WeakPassword("That password is too common. Try a longer phrase of unrelated words.")
    forbidden = {w.casefold() for w in context_words}
    if email:
        forbidden |= {email.casefold(), email.split("@")[0].casefold()}
    if lowered in forbidden:
        raise WeakPassword("Do not use your email address or the service name as a password.")
    return candidate


def _prehash(password: str) -> bytes:
    digest = hashlib.sha256(normalise(password).encode("utf-8")).digest()
    return base64.b64encode(digest)


def _hash_sync(password: str, rounds: int) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def _verify_sync(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), hashed.encode("ascii"))
    except ValueError:
        return False


async def hash_password(password: str, *, rounds: int) -> str:
    return await asyncio.to_thread(_hash_sync, password, rounds)


async def verify_password(password: str, hashed: str | None, *, rounds: int) -> bool:
    """Check `password` against `hashed`; with no hash, spend the same time and return False.

    Checking a dummy hash of the same cost keeps "no such account" and "wrong password"
    indistinguishable by timing.
    """
    if len(password) > MAX_LENGTH * 4:
        return False
    if hashed is None:
        if rounds not in _DUMMY_HASH_CACHE:
            _DUMMY_HASH_CACHE[rounds] = (await hash_password("dummy-password", rounds=rounds)
                                         ).encode("ascii")
        await asyncio.to_thread(_verify_sync, password, _DUMMY_HASH_CACHE[rounds].decode())
        return False
    return await asyncio.to_thread(_verify_sync, password, hashed)


def needs_rehash(hashed: str | None, *, rounds: int) -> bool:
    """Whether a stored bcrypt hash was made with another cost than `rounds` (rehash it at the
    next successful sign-in, when the password is at hand)."""
    if not hashed or not hashed.startswith("$2"):
        return False
    try:
        return int(hashed.split("$")[2]) != rounds
    except (IndexError, ValueError):
        return False
