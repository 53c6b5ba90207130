"""Identity providers: third parties that vouch for who someone is (Sign in with Google).

Each provider turns an OpenID Connect authorization code into a `VerifiedIdentity` whose
signature, issuer, audience, lifetime and nonce have all been checked. Failures become
`providers.errors.ProviderError`s; accounts decide what a verified identity may do.
"""

from clonechats.providers.identity.google import (
    AuthorizationRequest,
    GoogleOpenID,
    InvalidIdToken,
    VerifiedIdentity,
    build_google,
)

__all__ = ["AuthorizationRequest", "GoogleOpenID", "InvalidIdToken", "VerifiedIdentity",
           "build_google"]
