"""X-Forwarded-For / -Proto are honoured only from the configured proxy addresses."""

import logging

import pytest

from tests.web.conftest import AppFactory

FORWARDED = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}


async def whoami(factory: AppFactory, client: str, trusted: list[str],
                 headers: dict[str, str]) -> dict[str, str]:
    async with factory(trusted_proxies=trusted, client_address=(client, 123)) as (_app, http):
        response = await http.get("/probe/whoami", headers=headers)
        assert response.status_code == 200
        return response.json()


async def test_forwarded_headers_from_a_trusted_proxy_are_honoured(
    probe_app_factory: AppFactory,
) -> None:
    seen = await whoami(probe_app_factory, "127.0.0.1", ["127.0.0.1"], FORWARDED)
    assert seen == {"client": "203.0.113.9", "scheme": "https"}


async def test_forwarded_headers_are_ignored_when_no_proxy_is_configured(
    probe_app_factory: AppFactory,
) -> None:
    seen = await whoami(probe_app_factory, "127.0.0.1", [], FORWARDED)
    assert seen == {"client": "127.0.0.1", "scheme": "http"}


async def test_forwarded_headers_from_an_unlisted_address_are_ignored(
    probe_app_factory: AppFactory,
) -> None:
    seen = await whoami(probe_app_factory, "198.51.100.7", ["127.0.0.1"], FORWARDED)
    assert seen == {"client": "198.51.100.7", "scheme": "http"}


@pytest.mark.parametrize(("client", "honoured"), [
    ("10.20.30.40", True), ("10.255.0.1", True), ("11.0.0.1", False),
])
async def test_a_trusted_network_covers_its_addresses(
    probe_app_factory: AppFactory, client: str, honoured: bool
) -> None:
    seen = await whoami(probe_app_factory, client, ["10.0.0.0/8"], FORWARDED)
    expected = {"client": "203.0.113.9", "scheme": "https"} if honoured else {
        "client": client, "scheme": "http"}
    assert seen == expected


async def test_a_spoofed_hop_before_the_trusted_proxy_is_not_believed(
    probe_app_factory: AppFactory,
) -> None:
    """The client may send its own X-Forwarded-For; the proxy appends the real address.
    The nearest untrusted hop is the client, not what it claimed."""
    headers = {"x-forwarded-for": "1.2.3.4, 203.0.113.9", "x-forwarded-proto": "https"}
    seen = await whoami(probe_app_factory, "127.0.0.1", ["127.0.0.1"], headers)
    assert seen["client"] == "203.0.113.9"


async def test_unknown_forwarded_scheme_is_ignored(probe_app_factory: AppFactory) -> None:
    headers = {"x-forwarded-proto": "javascript"}
    seen = await whoami(probe_app_factory, "127.0.0.1", ["127.0.0.1"], headers)
    assert seen["scheme"] == "http"


async def test_access_log_never_records_client_addresses(
    probe_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await whoami(probe_app_factory, "127.0.0.1", ["127.0.0.1"], FORWARDED)
    access = [r for r in caplog.records if r.name == "clonechats.access"]
    assert len(access) == 1
    assert (access[0].route, access[0].status) == ("/probe/whoami", 200)
    everything = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "203.0.113.9" not in everything
    assert "127.0.0.1', 123" not in everything
