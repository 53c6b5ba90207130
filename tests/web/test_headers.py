"""Security headers on every response, whatever produced it; pages carry no inline script."""

import re
from html.parser import HTMLParser

import httpx
import pytest

from tests.web.conftest import BODY_LIMIT, AppFactory

BROWSER = {"accept": "text/html"}


def csp_directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"], "scripts only from files we serve"
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert not any("unsafe-inline" in v or "unsafe-eval" in v
                   for values in csp.values() for v in values)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "server" not in headers or "uvicorn" not in headers["server"].lower()


REQUESTS = [
    ("GET", "/", BROWSER, None),
    ("GET", "/healthz", {}, None),
    ("GET", "/metrics", {}, None),
    ("GET", "/privacy", BROWSER, None),
    ("GET", "/.well-known/security.txt", {}, None),
    ("GET", "/static/css/app.css", {}, None),
    ("GET", "/static/js/app.js", {}, None),
    ("GET", "/api/v1/openapi.json", {}, None),
    ("GET", "/api/v1/missing", {}, None),
    ("GET", "/missing-page", BROWSER, None),
    ("POST", "/healthz", {}, None),
    ("POST", "/api/v1/probe/greet", {"content-type": "application/json"}, b"{bad"),
    ("POST", "/api/v1/probe/greet", {"content-type": "application/json"}, b'{"name": ""}'),
    ("POST", "/api/v1/probe/raw", {}, b"x" * (BODY_LIMIT + 1)),
    ("GET", "/api/v1/probe/conflict", {}, None),
    ("GET", "/api/v1/probe/crash", {}, None),
    ("GET", "/probe/crash-page", BROWSER, None),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), REQUESTS,
                         ids=[f"{m} {p}" for m, p, _h, b in REQUESTS])
async def test_every_response_has_the_security_headers(
    probe: httpx.AsyncClient, method: str, path: str, headers: dict[str, str],
    body: bytes | None,
) -> None:
    response = await probe.request(method, path, headers=headers, content=body)
    assert_security_headers(response)


async def test_hsts_only_outside_dev_mode(probe_app_factory: AppFactory) -> None:
    async with probe_app_factory(dev_mode=False) as (_app, http):
        for path in ("/", "/api/v1/missing", "/api/v1/probe/crash"):
            response = await http.get(path)
            assert response.headers["strict-transport-security"].startswith("max-age=")
    async with probe_app_factory(dev_mode=True) as (_app, http):
        assert "strict-transport-security" not in (await http.get("/")).headers


async def test_every_response_has_a_request_id(probe: httpx.AsyncClient) -> None:
    ids = {(await probe.get(path)).headers["x-request-id"]
           for path in ("/", "/healthz", "/api/v1/missing")}
    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{16}", request_id) for request_id in ids)


class ScriptFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.external_scripts: list[str] = []
        self.inline_handlers: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.inline_handlers += [name for name in names if name.startswith("on")]
        if tag == "script":
            if names.get("src"):
                self.external_scripts.append(names["src"] or "")
            else:
                self._in_inline_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.inline_scripts += 1


@pytest.mark.parametrize("path", ["/", "/privacy", "/cookies", "/security", "/missing-page"])
async def test_pages_have_no_inline_script_or_event_handlers(
    probe: httpx.AsyncClient, path: str
) -> None:
    response = await probe.get(path, headers=BROWSER)
    finder = ScriptFinder()
    finder.feed(response.text)
    assert finder.inline_scripts == 0
    assert finder.inline_handlers == []
    assert finder.external_scripts, "the progressive-enhancement script is linked"
    assert all(src.startswith("/static/") for src in finder.external_scripts)
