"""What we record about the client of a request: a keyed hash of its address and its
User-Agent. The raw address is read here and nowhere else, and never leaves this function.
"""

from dataclasses import dataclass

from fastapi import Request

from clonechats.privacy.pseudonyms import hash_ip
from clonechats.web.context import context_of

USER_AGENT_MAX = 256


@dataclass(frozen=True)
class ClientInfo:
    ip_hash: str | None
    user_agent: str


def client_info(request: Request) -> ClientInfo:
    secret = context_of(request).secret
    host = request.client.host if request.client else None
    user_agent = request.headers.get("user-agent", "")[:USER_AGENT_MAX]
    return ClientInfo(ip_hash=hash_ip(secret, host), user_agent=user_agent)
