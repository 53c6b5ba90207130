"""What we record about the client of a request (a `client_info.ClientInfo`): a keyed hash of
its address and its User-Agent. The raw address is read here and nowhere else, and never leaves
this function.
"""

from fastapi import Request

from clonechats.client_info import ClientInfo
from clonechats.privacy.pseudonyms import hash_ip
from clonechats.web.context import context_of

USER_AGENT_MAX = 256


def client_info(request: Request) -> ClientInfo:
    secret = context_of(request).secret
    host = request.client.host if request.client else None
    user_agent = request.headers.get("user-agent", "")[:USER_AGENT_MAX]
    return ClientInfo(ip_hash=hash_ip(secret, host), user_agent=user_agent)
