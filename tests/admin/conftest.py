import httpx
import pytest

from clonechats.settings import Settings
from tests.conftest import FAST_HASHING, make_settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Admin tests hash with bcrypt cost 4 for speed."""
    return make_settings(tmp_path / "data", accounts=FAST_HASHING)


@pytest.fixture
async def new_client(app):
    """Makes more browsers for the same app, each with its own cookies."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver")
        clients.append(http)
        return http

    yield make
    for http in clients:
        await http.aclose()

