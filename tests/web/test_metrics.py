"""/metrics speaks the Prometheus text format; request counts are labelled by route template;
an optional token protects it. Log lines are structured."""

import json
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from clonechats.telemetry.logs import JsonFormatter, configure_logging
from tests.web.conftest import AppFactory


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def request_count(text: str, method: str, route: str, status: str) -> float:
    key = (("method", method), ("route", route), ("status", status))
    return samples(text, "clonechats_http_requests_total").get(key, 0.0)


async def test_metrics_are_in_prometheus_text_format(probe: httpx.AsyncClient) -> None:
    response = await probe.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "version=" in response.headers["content-type"]
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"clonechats_http_requests", "clonechats_http_request_seconds"} <= names


async def test_requests_are_counted_by_route_template_and_status(
    probe: httpx.AsyncClient,
) -> None:
    for _ in range(3):
        await probe.get("/healthz")
    await probe.get("/api/v1/no-such-thing/12345")
    await probe.get("/api/v1/another/unknown")
    await probe.post("/api/v1/probe/greet", json={"name": ""})

    text = (await probe.get("/metrics")).text
    assert request_count(text, "GET", "/healthz", "200") == 3
    # unknown paths share one label, so probing random URLs cannot blow up the series count
    assert request_count(text, "GET", "unmatched", "404") == 2
    assert request_count(text, "POST", "/api/v1/probe/greet", "422") == 1
    assert "12345" not in text
    latency = samples(text, "clonechats_http_request_seconds_count")
    assert latency[(("method", "GET"), ("route", "/healthz"))] == 3


async def test_two_apps_keep_separate_counts(probe_app_factory: AppFactory) -> None:
    async with probe_app_factory() as (_one, first):
        await first.get("/healthz")
        async with probe_app_factory() as (_two, second):
            text = (await second.get("/metrics")).text
            assert request_count(text, "GET", "/healthz", "200") == 0


async def test_metrics_token_is_required_when_configured(probe_app_factory: AppFactory) -> None:
    token = "m" * 40
    async with probe_app_factory(metrics_token=token) as (_app, http):
        assert (await http.get("/metrics")).status_code == 404
        wrong = await http.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 404
        right = await http.get("/metrics", headers={"authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert "clonechats_http_requests_total" in right.text


async def test_access_log_lines_are_structured(
    probe: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="clonechats.access"):
        response = await probe.get("/healthz")
    [record] = [r for r in caplog.records if r.name == "clonechats.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "info"
    assert line["logger"] == "clonechats.access"
    assert line["message"] == "request"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/healthz", 200)
    assert line["request_id"] == response.headers["x-request-id"]
    assert isinstance(line["ms"], float)
    assert line["time"].endswith("+00:00")


def test_configure_logging_writes_one_json_object_per_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("INFO", json_lines=True)
        logging.getLogger("clonechats.example").info("hello", extra={"job_id": "j1"})
        logging.getLogger("clonechats.example").debug("hidden")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert (entry["message"], entry["job_id"], entry["level"]) == ("hello", "j1", "info")


async def test_background_jobs_are_counted_by_status(probe_app_factory: AppFactory) -> None:
    async with probe_app_factory() as (app, client):
        ctx = app.state.ctx
        await ctx.enqueue("test.one", {})
        await ctx.enqueue("test.two", {})
        text = (await client.get("/metrics")).text
    assert 'clonechats_jobs{status="queued"} 2.0' in text
    assert 'clonechats_jobs{status="dead"} 0.0' in text
