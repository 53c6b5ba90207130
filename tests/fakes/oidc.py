"""A fake OpenID Connect provider that speaks Google's wire format, behind `httpx.MockTransport`.

It serves the discovery document, a JWKS with a real RSA key (made with `cryptography`), and a
token endpoint that checks what Google checks: the one-time code, the redirect URI given at
authorize time, the client's id and secret (form body or HTTP Basic), and the PKCE verifier
against the S256 challenge it received. ID tokens are RS256 JWTs signed with joserfc.

A test plays the browser: it hands the authorize URL our app redirected to to `authorize()`,
which checks the request like Google would and returns the URL Google would send the browser
back to (`redirect_uri?code=…&state=…`). Keyword arguments to `authorize()` choose the person
who signs in and bend the ID token (other audience, issuer, lifetime, nonce, signing key).
`fail_next()` scripts the next replies of an endpoint; every request lands in `history`.
"""

import base64
import functools
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from clonechats.clock import Clock

BASE_URL = "https://oidc.fake.test"
DISCOVERY_URL = f"{BASE_URL}/.well-known/openid-configuration"
ISSUER = "https://accounts.google.com"
CLIENT_ID = "1234-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret-0123456789"


@functools.cache
def rsa_key(kid: str) -> RSAKey:
    """A real 2048-bit RSA signing key (one per kid, made once per test run)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(private, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass(frozen=True)
class Account:
    sub: str = "108234567890123456789"
    email: str = "sam@gmail.com"
    email_verified: Any = True
    name: str | None = "Sam Rivers"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    account: Account
    claims: dict[str, Any]
    signing_key: RSAKey | None
    used: bool = False


@dataclass
class FakeOpenIDProvider:
    clock: Clock
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    issuer: str = ISSUER
    keys: list[RSAKey] = field(default_factory=lambda: [rsa_key("key-1")])
    history: list[httpx.Request] = field(default_factory=list)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _script: dict[str, deque[httpx.Response | type[Exception]]] = field(default_factory=dict)

    # -- what a test drives -------------------------------------------------------------
    def authorize(self, url: str, *, account: Account | None = None,
                  signing_key: RSAKey | None = None, **claims: Any) -> str:
        """Play Google's consent screen for `url`; returns the redirect back to the app."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE_URL}/o/oauth2/v2/auth"
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        assert query["client_id"] == self.client_id
        assert query["response_type"] == "code"
        assert "openid" in query["scope"].split()
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client_id=query["client_id"], redirect_uri=query["redirect_uri"],
            code_challenge=query["code_challenge"], nonce=query["nonce"],
            account=account or Account(), claims=claims, signing_key=signing_key)
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def deny(self, url: str) -> str:
        """The person pressed Cancel on the consent screen."""
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        params = {"error": "access_denied", "state": query["state"]}
        return f"{query['redirect_uri']}?{urlencode(params)}"

    def rotate_keys(self, kid: str) -> None:
        """Publish a new signing key (and drop the old one), as Google does every few weeks."""
        self.keys = [rsa_key(kid)]

    def fail_next(self, path: str, reply: httpx.Response | type[Exception]) -> None:
        """Script the next reply of `path` (e.g. "/token"): a response or a transport error."""
        self._script.setdefault(path, deque()).append(reply)

    def requests_to(self, path: str) -> list[httpx.Request]:
        return [request for request in self.history if request.url.path == path]

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -- the provider's side ------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.history.append(request)
        scripted = self._script.get(request.url.path)
        if scripted:
            reply = scripted.popleft()
            if isinstance(reply, httpx.Response):
                return reply
            raise reply("scripted failure", request=request)
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/oauth2/v3/certs"): self._jwks,
            ("POST", "/token"): self._token,
        }
        route = routes.get((request.method, request.url.path))
        if route is None or request.url.host != urlsplit(BASE_URL).hostname:
            return httpx.Response(404, json={"error": "not_found"})
        return route(request)

    def _discovery(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={
            "issuer": self.issuer,
            "authorization_endpoint": f"{BASE_URL}/o/oauth2/v2/auth",
            "token_endpoint": f"{BASE_URL}/token",
            "userinfo_endpoint": f"{BASE_URL}/v1/userinfo",
            "jwks_uri": f"{BASE_URL}/oauth2/v3/certs",
            "response_types_supported": ["code", "token", "id_token", "code id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic"],
            "claims_supported": ["aud", "email", "email_verified", "exp", "iat", "iss", "name",
                                 "sub"],
            "code_challenge_methods_supported": ["plain", "S256"],
        })

    def _jwks(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"keys": [key.as_dict(private=False)
                                                  for key in self.keys]},
                              headers={"Cache-Control": "public, max-age=21600"})

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {key: values[0] for key, values in parse_qs(request.content.decode()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return httpx.Response(401, json={"error": "invalid_client",
                                             "error_description": "Unauthorized"})
        grant = self._grants.get(form.get("code", ""))
        if (form.get("grant_type") != "authorization_code" or grant is None or grant.used
                or grant.client_id != client_id
                or form.get("redirect_uri") != grant.redirect_uri):
            return httpx.Response(400, json={"error": "invalid_grant",
                                             "error_description": "Bad Request"})
        verifier = form.get("code_verifier", "")
        if not verifier or create_s256_code_challenge(verifier) != grant.code_challenge:
            return httpx.Response(400, json={"error": "invalid_grant",
                                             "error_description": "code_verifier mismatch"})
        grant.used = True
        return httpx.Response(200, json={
            "access_token": "ya29." + secrets.token_urlsafe(24), "expires_in": 3599,
            "scope": "openid https://www.googleapis.com/auth/userinfo.email "
                     "https://www.googleapis.com/auth/userinfo.profile",
            "token_type": "Bearer", "id_token": self.id_token(grant),
        })

    def id_token(self, grant: _Grant) -> str:
        now = int(self.clock.now().timestamp())
        account = grant.account
        claims: dict[str, Any] = {
            "iss": self.issuer, "azp": self.client_id, "aud": self.client_id,
            "sub": account.sub, "email": account.email, "email_verified": account.email_verified,
            "nonce": grant.nonce, "iat": now, "exp": now + int(timedelta(hours=1).total_seconds()),
        }
        if account.name is not None:
            claims["name"] = account.name
        claims.update(grant.claims)
        claims = {key: value for key, value in claims.items() if value is not None}
        key = grant.signing_key or self.keys[0]
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)


@functools.cache
def impostor_key(kid: str) -> RSAKey:
    """Another real RSA key that claims the same `kid` as a published one."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(private, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
