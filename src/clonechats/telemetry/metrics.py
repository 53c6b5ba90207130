"""Prometheus metrics, one registry per app so several apps (tests) never collide."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "clonechats_http_requests_total", "HTTP requests by route and status.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "clonechats_http_request_seconds", "HTTP request duration by route.",
            ["method", "route"], registry=self.registry,
        )
        self.jobs = Gauge(
            "clonechats_jobs", "Background jobs by status.", ["status"], registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
