"""Local fakes of vendor HTTP APIs, served through `httpx.MockTransport`."""
