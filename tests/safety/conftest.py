import pytest

from clonechats.settings import AccountSettings, Settings
from tests.conftest import make_settings
from tests.factories import log_in, make_user


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Safety tests hash with bcrypt cost 4 for speed."""
    return make_settings(tmp_path / "data", accounts=AccountSettings(bcrypt_rounds=4))


@pytest.fixture
async def admin(ctx, client):
    """The admin's user document; `client` is signed in as this admin."""
    user = await make_user(ctx, email="admin@example.com", role="admin")
    assert (await log_in(client, email="admin@example.com")).status_code == 200
    return user
