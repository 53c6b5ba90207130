"""What the services are told about the client of a request: a keyed hash of its address and
its User-Agent, never the raw address.

`web.client.client_info(request)` builds one from the request (the only code that reads the
raw address); services take a `ClientInfo` and never see the request, so they need not import
the web framework. Like `errors.py` and `clock.py`, this module belongs to no layer: anything
may import it, and it imports nothing of the app.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientInfo:
    ip_hash: str | None
    user_agent: str
