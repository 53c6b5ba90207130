"""The HTTP protocol `clonechats serve` runs: uvicorn's h11 protocol with two guards it lacks.

- Header timeout: a connection must send a whole request head (request line and headers)
  within `server.header_timeout_seconds` of opening, or of its previous response finishing;
  a client that trickles header bytes (slowloris) is closed. uvicorn's own keep-alive timer
  restarts on every byte, so it does not stop that.
- Per-address cap: one client address may hold at most `server.max_connections_per_address`
  open connections; a connection beyond that is closed at once.

Addresses are only counted in memory, never stored or logged.
"""

import asyncio
from collections import Counter
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from clonechats.settings import ServerSettings


def guarded_protocol(settings: ServerSettings) -> type[H11Protocol]:
    """A protocol class bound to these limits (uvicorn builds one instance per connection)."""
    open_by_address: Counter[str] = Counter()

    class GuardedH11Protocol(H11Protocol):
        header_timeout = settings.header_timeout_seconds
        max_per_address = settings.max_connections_per_address
        open_connections = open_by_address

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._address = self.client[0] if self.client else None
            self._head_timer: asyncio.TimerHandle | None = None
            self._seen_cycle: Any = None
            if self._address is not None:
                self.open_connections[self._address] += 1
                if self.open_connections[self._address] > self.max_per_address:
                    transport.close()
                    return
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(self.header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _too_slow(self) -> None:
            self._head_timer = None
            if self.cycle is None or self.cycle is self._seen_cycle:
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and self.cycle is not self._seen_cycle:
                self._seen_cycle = self.cycle  # a whole request head arrived
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request on this connection gets the same limit

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._address is not None:
                self.open_connections[self._address] -= 1
                if self.open_connections[self._address] <= 0:
                    del self.open_connections[self._address]
            super().connection_lost(exc)

    return GuardedH11Protocol


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """The server options `serve` passes to uvicorn for these settings."""
    return {"http": guarded_protocol(settings.server),
            "timeout_graceful_shutdown": settings.server.graceful_shutdown_seconds}
