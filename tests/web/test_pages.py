"""Site-wide pages and probes: home, policy pages, security.txt, health, the API document."""

from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from clonechats.app import create_app
from clonechats.clock import FrozenClock
from tests.conftest import make_settings

BROWSER = {"accept": "text/html"}


async def test_home_page_renders_with_navigation_and_policy_links(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<title>Clone Chats</title>" in page
    assert 'class="nav-toggle"' in page and 'aria-controls="site-nav"' in page
    assert 'id="site-nav"' in page
    for href in ("/privacy", "/cookies", "/security"):
        assert f'href="{href}"' in page
    assert 'href="/static/css/app.css' in page


@pytest.mark.parametrize(("path", "heading"), [
    ("/privacy", "Privacy"), ("/cookies", "Cookies"), ("/security", "Security"),
])
async def test_policy_pages_render(client: httpx.AsyncClient, path: str, heading: str) -> None:
    response = await client.get(path, headers=BROWSER)
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.text
    assert f"<title>{heading} · Clone Chats</title>" in response.text


async def test_policy_pages_say_what_this_instance_is_configured_with(
    tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(tmp_path, operator_name="Example Personas Ltd",
                             contact_email="dpo@personas.example",
                             security_email="sec@personas.example")
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        privacy = (await http.get("/privacy")).text
        security = (await http.get("/security")).text
    assert "Example Personas Ltd" in privacy and "dpo@personas.example" in privacy
    assert "sec@personas.example" in security


async def test_operator_text_is_escaped_in_pages(tmp_path: Path, clock: FrozenClock) -> None:
    settings = make_settings(tmp_path, operator_name='<script>alert("x")</script>')
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        page = (await http.get("/", headers=BROWSER)).text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


async def test_security_txt_names_the_contact_and_expires_within_a_year(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    response = await client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    fields = dict(line.split(": ", 1) for line in response.text.strip().splitlines())
    assert fields["Contact"] == "mailto:security@example.invalid"
    assert fields["Policy"].endswith("/security")
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert clock.now() < expires <= clock.now() + timedelta(days=366)


async def test_healthz_is_ok_once_started(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"]) == ("ok", "ok")
    # and whether each local model is loaded yet ("loading" while it loads at start-up)
    assert set(body["models"]) == {"local:smollm2-135m"}
    assert body["models"]["local:smollm2-135m"] in {"not loaded", "loading", "ready"}


async def test_healthz_is_503_before_start_up(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        response = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "starting"}


async def test_static_files_are_served_with_their_types(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/css/app.css")
    js = await client.get("/static/js/app.js")
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "javascript" in js.headers["content-type"]
    assert "nav-toggle" in js.text


async def test_openapi_document_is_published_and_interactive_docs_are_off(
    client: httpx.AsyncClient,
) -> None:
    document = await client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Clone Chats API"
    for path in ("/docs", "/redoc"):
        assert (await client.get(path)).status_code == 404
