"""Every error has the API.md shape and a fitting status: unknown routes, bad JSON, invalid
input, oversized bodies, expected failures, and unexpected ones (an opaque id, the trace only in
the log)."""

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from clonechats.telemetry.logs import JsonFormatter
from tests.web.conftest import BODY_LIMIT

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"].strip()
    assert set(error) <= {"code", "message", "details", "error_id"}
    return error


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/no/such/page", "/a/b/c?d=e"])
async def test_unknown_route_is_a_json_404(probe: httpx.AsyncClient, path: str) -> None:
    assert_error(await probe.get(path), 404, "not_found")
    assert_error(await probe.post(path, json={"a": 1}), 404, "not_found")


async def test_missing_static_file_is_a_json_404(probe: httpx.AsyncClient) -> None:
    assert_error(await probe.get("/static/missing.css"), 404, "not_found")
    assert_error(await probe.get("/static/../settings.py"), 404, "not_found")
    assert_error(await probe.post("/static/css/app.css"), 405, "method_not_allowed")


async def test_unknown_page_for_a_browser_is_an_html_404(probe: httpx.AsyncClient) -> None:
    response = await probe.get("/no/such/page", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    # API paths answer JSON whatever the Accept header says
    assert_error(await probe.get("/api/v1/nothing", headers=BROWSER), 404, "not_found")


async def test_wrong_method_is_a_405(probe: httpx.AsyncClient) -> None:
    assert_error(await probe.delete("/api/v1/probe/greet"), 405, "method_not_allowed")
    assert_error(await probe.post("/healthz"), 405, "method_not_allowed")


@pytest.mark.parametrize("body", [b'{"name": ', b"{'name': 'x'}", b"\xff\xfe garbage", b"{"])
async def test_malformed_json_is_a_400(probe: httpx.AsyncClient, body: bytes) -> None:
    response = await probe.post("/api/v1/probe/greet", content=body,
                                headers={"content-type": "application/json"})
    error = assert_error(response, 400, "malformed_json")
    assert "details" not in error


async def test_invalid_input_is_a_422_with_the_same_shape(probe: httpx.AsyncClient) -> None:
    response = await probe.post("/api/v1/probe/greet", json={"name": "", "times": 9})
    error = assert_error(response, 422, "validation_failed")
    fields = {item["field"] for item in error["details"]}
    assert fields == {"name", "times"}
    assert error["message"].startswith("Invalid input (")


@pytest.mark.parametrize("payload", [[1, 2], "text", None, {"times": 2}])
async def test_wrong_json_types_are_422(probe: httpx.AsyncClient, payload: Any) -> None:
    response = await probe.post("/api/v1/probe/greet", json=payload)
    assert_error(response, 422, "validation_failed")


async def test_missing_body_is_a_4xx_with_the_shape(probe: httpx.AsyncClient) -> None:
    assert_error(await probe.post("/api/v1/probe/greet"), 422, "validation_failed")


async def test_valid_input_still_works(probe: httpx.AsyncClient) -> None:
    response = await probe.post("/api/v1/probe/greet", json={"name": "Ada", "times": 2})
    assert response.status_code == 200
    assert response.json() == {"text": "Hello, Ada. Hello, Ada."}


@pytest.mark.parametrize("path", ["/api/v1/probe/greet", "/api/v1/probe/raw"])
async def test_announced_oversized_body_is_a_413(probe: httpx.AsyncClient, path: str) -> None:
    body = json.dumps({"name": "x" * (BODY_LIMIT + 10)}).encode()
    response = await probe.post(path, content=body, headers={"content-type": "application/json"})
    assert_error(response, 413, "payload_too_large")


async def test_streamed_oversized_body_is_a_413(probe: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"x" * 1024

    for path in ("/api/v1/probe/raw", "/api/v1/probe/greet"):
        response = await probe.post(path, content=chunks(),
                                    headers={"content-type": "application/json"})
        assert_error(response, 413, "payload_too_large")


async def test_body_at_the_limit_is_accepted(probe: httpx.AsyncClient) -> None:
    response = await probe.post("/api/v1/probe/raw", content=b"x" * BODY_LIMIT)
    assert response.status_code == 200
    assert response.json() == {"received": BODY_LIMIT}


async def test_oversized_body_to_an_unknown_route_is_a_4xx(probe: httpx.AsyncClient) -> None:
    response = await probe.post("/api/v1/nowhere", content=b"x" * (BODY_LIMIT * 4))
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] in {"not_found", "payload_too_large"}


async def test_expected_failure_keeps_its_status_code_and_message(
    probe: httpx.AsyncClient,
) -> None:
    error = assert_error(await probe.get("/api/v1/probe/conflict"), 409, "conflict")
    assert error["message"] == "That name is taken."
    assert error["details"] == {"field": "name"}


async def test_unexpected_error_is_an_opaque_500_and_the_trace_goes_to_the_log(
    probe: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="clonechats"):
        response = await probe.get("/api/v1/probe/crash")

    error = assert_error(response, 500, "internal_error")
    error_id = error["error_id"]
    assert len(error_id) >= 8
    assert error_id in error["message"]
    for leaked in ("hunter2", "Traceback", "ProbeFailure", "secret internals", ".py"):
        assert leaked not in response.text

    logged = [r for r in caplog.records if getattr(r, "error_id", None) == error_id]
    assert len(logged) == 1
    record = logged[0]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0].__name__ == "ProbeFailure"
    line = json.loads(JsonFormatter().format(record))
    assert line["error_id"] == error_id
    assert line["route"] == "/api/v1/probe/crash"
    assert "Traceback" in line["trace"] and "hunter2" in line["trace"]


async def test_unexpected_error_on_a_page_is_an_opaque_html_500(
    probe: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="clonechats"):
        response = await probe.get("/probe/crash-page", headers=BROWSER)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    error_ids = [getattr(r, "error_id", None) for r in caplog.records]
    assert any(error_id and error_id in response.text for error_id in error_ids)


async def test_two_failures_get_different_ids(probe: httpx.AsyncClient) -> None:
    first = (await probe.get("/api/v1/probe/crash")).json()["error"]["error_id"]
    second = (await probe.get("/api/v1/probe/crash")).json()["error"]["error_id"]
    assert first != second


async def test_json_bodies_have_their_own_smaller_limit(tmp_path) -> None:
    from clonechats.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", max_body_bytes=4096, max_json_bytes=512)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            big_json = json.dumps({"email": "x" * 1000, "password": "y"})
            refused = await http.post("/api/v1/auth/login", content=big_json,
                                      headers={"content-type": "application/json"})
            assert_error(refused, 413, "payload_too_large")
            small_json = json.dumps({"email": "a@example.com", "password": "wrong guess"})
            allowed = await http.post("/api/v1/auth/login", content=small_json,
                                      headers={"content-type": "application/json"})
            assert allowed.status_code == 401
