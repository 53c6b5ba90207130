"""bcrypt at the configured cost, and the policy's edge cases."""

import pytest

from clonechats.accounts import passwords
from clonechats.settings import Settings


async def test_default_cost_is_12_and_hashing_verifies():
    rounds = Settings(_env_file=None).accounts.bcrypt_rounds
    assert rounds == 12
    hashed = await passwords.hash_password("a long and unusual passphrase", rounds=rounds)
    assert hashed.startswith("$2b$12$")
    assert await passwords.verify_password("a long and unusual passphrase", hashed, rounds=12)
    assert not await passwords.verify_password("a long and unusual passphrasE", hashed, rounds=12)


def test_low_cost_refused_outside_dev_mode(tmp_path):
    with pytest.raises(ValueError, match="bcrypt_rounds"):
        Settings(_env_file=None, data_dir=tmp_path, accounts={"bcrypt_rounds": 4})


def test_policy_allows_64_characters_and_spaces():
    phrase = "correct horse battery staple " * 2 + "and more"
    assert len(phrase) >= 64
    assert passwords.check_policy(phrase) == phrase


def test_unicode_is_normalised_before_hashing():
    composed, decomposed = "caf\u00e9 au lait tonight", "cafe\u0301 au lait tonight"
    assert passwords.check_policy(composed) == passwords.check_policy(decomposed)


async def test_unknown_user_still_costs_a_hash_check():
    assert not await passwords.verify_password("anything at all", None, rounds=4)
