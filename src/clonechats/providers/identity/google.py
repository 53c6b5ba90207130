"""Google sign-in as an OpenID Connect relying party (authorization code flow with PKCE).

- Discovery: the endpoints come from the discovery document (`settings.google.discovery_url`),
  kept in memory for `metadata_cache_seconds`; the signing keys (JWKS) likewise, fetched again
  at once when an ID token names a key id we do not hold (Google rotates keys).
- Authorization: `new_authorization()` makes a fresh `state`, `nonce` and PKCE `code_verifier`
  (S256) and the URL to send the browser to. The caller keeps them server-side.
- Callback: `authenticate()` exchanges the code at the token endpoint (client secret in the
  form body, the code verifier beside it) and validates the ID token: RS256 signature against
  the JWKS, `iss` among the allowed issuers, `aud` exactly our client id (and `azp`, if
  present), `exp`/`iat` against the injected clock with a small leeway, `nonce` equal to the
  one sent, `sub` present. `email_verified` is reported, not enforced: accounts decide.

Failures are translated here: timeouts, connection errors, 5xx and 429 -> ProviderUnavailable;
401 or `invalid_client` -> ProviderAuthError; other refusals -> ProviderRejected; an ID token
that fails any check -> InvalidIdToken (a ProviderRejected). Nothing here touches the database.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from clonechats.clock import Clock
from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.settings import GoogleSettings

PROVIDER = "google"
SCOPE = "openid email profile"
LEEWAY_SECONDS = 60
SIGNING_ALGORITHMS = frozenset({"RS256"})
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class InvalidIdToken(ProviderRejected):
    """The ID token failed a signature or claim check; nothing in it may be trusted."""


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class VerifiedIdentity:
    provider: str
    sub: str
    email: str | None
    email_verified: bool
    name: str | None


@dataclass
class _Cached:
    value: Any
    expires_at: datetime


class GoogleOpenID:
    name = PROVIDER

    def __init__(self, *, client_id: str, client_secret: str, discovery_url: str,
                 allowed_issuers: list[str], http: httpx.AsyncClient, clock: Clock,
                 cache_seconds: float = 3600.0, timeout_seconds: float = 10.0) -> None:
        if not client_id or not client_secret:
            raise ValueError("Google sign-in needs a client id and a client secret")
        self.client_id = client_id
        self._client_secret = client_secret
        self._discovery_url = discovery_url
        self._issuers = list(allowed_issuers)
        self._http = http
        self._clock = clock
        self._ttl = timedelta(seconds=cache_seconds)
        self._timeout = timeout_seconds
        self._metadata: _Cached | None = None
        self._jwks: _Cached | None = None

    # -- discovery and keys -------------------------------------------------------------
    async def metadata(self) -> dict[str, Any]:
        now = self._clock.now()
        if self._metadata is None or self._metadata.expires_at <= now:
            document = await self._get_json(self._discovery_url, what="discovery document")
            missing = [key for key in REQUIRED_METADATA if not document.get(key)]
            if missing:
                raise ProviderUnavailable(f"discovery document lacks {', '.join(missing)}",
                                          provider=PROVIDER)
            self._metadata = _Cached(document, now + self._ttl)
        return self._metadata.value

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        now = self._clock.now()
        if refresh or self._jwks is None or self._jwks.expires_at <= now:
            uri = (await self.metadata())["jwks_uri"]
            document = await self._get_json(uri, what="signing keys")
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]  # checked there
            except (JoseError, ValueError, KeyError, TypeError) as exc:
                raise ProviderUnavailable("signing keys could not be read",
                                          provider=PROVIDER) from exc
            self._jwks = _Cached(keys, now + self._ttl)
        return self._jwks.value

    # -- the code flow ------------------------------------------------------------------
    async def new_authorization(self, *, redirect_uri: str) -> AuthorizationRequest:
        endpoint = (await self.metadata())["authorization_endpoint"]
        state, nonce = generate_token(32), generate_token(32)
        verifier = generate_token(64)
        url = prepare_grant_uri(
            endpoint, self.client_id, "code", redirect_uri=redirect_uri, scope=SCOPE,
            state=state, nonce=nonce, code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256", prompt="select_account",
        )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def authenticate(self, *, code: str, redirect_uri: str, code_verifier: str,
                           nonce: str) -> VerifiedIdentity:
        tokens = await self.exchange_code(code=code, redirect_uri=redirect_uri,
                                          code_verifier=code_verifier)
        claims = await self.verify_id_token(tokens["id_token"], nonce=nonce,
                                            access_token=tokens.get("access_token"))
        verified = claims.get("email_verified")
        return VerifiedIdentity(
            provider=PROVIDER, sub=claims["sub"],
            email=claims["email"] if isinstance(claims.get("email"), str) else None,
            email_verified=verified is True or verified == "true",
            name=claims["name"] if isinstance(claims.get("name"), str) else None,
        )

    async def exchange_code(self, *, code: str, redirect_uri: str,
                            code_verifier: str) -> dict[str, Any]:
        endpoint = (await self.metadata())["token_endpoint"]
        body = prepare_token_request(
            "authorization_code", redirect_uri=redirect_uri, code=code,
            code_verifier=code_verifier, client_id=self.client_id,
            client_secret=self._client_secret,
        )
        try:
            response = await self._http.post(
                endpoint, content=body, timeout=self._timeout,
                headers={"Content-Type": "application/x-www-form-urlencoded",
                         "Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"token endpoint unreachable ({type(exc).__name__})",
                                      provider=PROVIDER) from exc
        payload = _json_or_none(response)
        if response.status_code != 200:
            raise _token_error(response.status_code, payload)
        if not isinstance(payload, dict) or not isinstance(payload.get("id_token"), str):
            raise ProviderRejected("the token response carries no id_token", provider=PROVIDER,
                                   status=response.status_code)
        return payload

    async def verify_id_token(self, id_token: str, *, nonce: str,
                              access_token: str | None = None) -> dict[str, Any]:
        if not nonce:
            raise InvalidIdToken("no nonce to compare", provider=PROVIDER,
                                 code="invalid_id_token")
        algorithms = self._algorithms(await self.metadata())
        try:
            try:
                token = jwt.decode(id_token, await self.key_set(), algorithms=algorithms)
            except InvalidKeyIdError:
                token = jwt.decode(id_token, await self.key_set(refresh=True),
                                   algorithms=algorithms)
            claims = CodeIDToken(
                token.claims, token.header,
                {"iss": {"essential": True, "values": self._issuers},
                 "aud": {"essential": True, "value": self.client_id},
                 "sub": {"essential": True}},
                {"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
            )
            claims.validate(now=int(self._clock.now().timestamp()), leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            reason = getattr(exc, "error", None) or type(exc).__name__
            raise InvalidIdToken(f"ID token refused ({reason}: {exc})", provider=PROVIDER,
                                 code="invalid_id_token") from exc
        audience = claims["aud"]
        if audience != self.client_id and audience != [self.client_id]:
            raise InvalidIdToken("ID token is meant for other audiences too",
                                 provider=PROVIDER, code="invalid_id_token")
        return dict(claims)

    # -- plumbing -------------------------------------------------------------------------
    @staticmethod
    def _algorithms(metadata: dict[str, Any]) -> list[str]:
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        usable = sorted(SIGNING_ALGORITHMS.intersection(offered))
        if not usable:
            raise ProviderRejected("the provider offers no signing algorithm we accept",
                                   provider=PROVIDER)
        return usable

    async def _get_json(self, url: str, *, what: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, timeout=self._timeout,
                                             headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"{what} unreachable ({type(exc).__name__})",
                                      provider=PROVIDER) from exc
        payload = _json_or_none(response)
        if response.status_code != 200 or not isinstance(payload, dict):
            raise ProviderUnavailable(f"{what} not available", provider=PROVIDER,
                                      status=response.status_code)
        return payload


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _token_error(status: int, payload: Any) -> Exception:
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error if isinstance(error, str) else None
    description = payload.get("error_description") if isinstance(payload, dict) else None
    message = f"token endpoint refused the code ({description or code or 'no reason given'})"
    if status >= 500 or status == 429:
        return ProviderUnavailable("token endpoint failed", provider=PROVIDER, status=status,
                                   code=code)
    if status == 401 or code in {"invalid_client", "unauthorized_client"}:
        return ProviderAuthError(message, provider=PROVIDER, status=status, code=code)
    return ProviderRejected(message, provider=PROVIDER, status=status, code=code)


def build_google(settings: GoogleSettings, *, http: httpx.AsyncClient,
                 clock: Clock) -> GoogleOpenID | None:
    """The configured Google client, or None when Google sign-in is not set up."""
    if not settings.enabled or settings.client_secret is None or settings.client_id is None:
        return None
    return GoogleOpenID(client_id=settings.client_id.strip(),
                        client_secret=settings.client_secret.get_secret_value().strip(),
                        discovery_url=settings.discovery_url,
                        allowed_issuers=settings.allowed_issuers, http=http, clock=clock,
                        cache_seconds=settings.metadata_cache_seconds)
