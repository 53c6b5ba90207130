import pytest

from clonechats.settings import Settings
from tests.conftest import FAST_HASHING, make_settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Accounts tests hash with bcrypt cost 4 for speed; test_passwords checks the real cost."""
    return make_settings(tmp_path / "data", accounts=FAST_HASHING)
