"""`reauth`: verify a fresh ID token of the same user with the authorizer's verifier, extend the session."""

from __future__ import annotations

import functools

from cognito_verifier import CognitoIdTokenVerifier, Reason, TokenRejected, VerifierSettings

from chat.logic import sessions
from chat.models.domain import Caller
from chat.models.errors import InternalError, TokenInvalid
from chat.observability import logger


def reauth(caller: Caller, id_token: str, *, verifier: VerifierSettings | None) -> int:
    """Returns the session's new expiry (epoch seconds): the new token's."""
    if verifier is None:  # DirectFunction's settings require the pool: a deployment error
        raise RuntimeError("no user pool settings: USER_POOL_ID is not set")
    try:
        verified = token_verifier(verifier).verify(id_token)
    except TokenRejected as exc:
        if exc.reason == Reason.KEYS_UNAVAILABLE:  # our side cannot verify right now: retry later
            logger.error("reauth: no signing keys available")
            raise InternalError() from exc
        logger.info("reauth token rejected", extra={"reason": exc.reason.value})
        raise TokenInvalid(f"the token failed verification ({exc.reason.value})") from exc
    if verified.sub != caller.user_id:
        logger.warning("reauth token of another user")
        raise TokenInvalid("the token belongs to another user")
    sessions.extend(caller, verified.expires_at)
    return verified.expires_at


@functools.cache
def token_verifier(settings: VerifierSettings) -> CognitoIdTokenVerifier:
    """Built once per container (per settings), on first use: it fetches and caches the JWKS."""
    return CognitoIdTokenVerifier.from_settings(settings)
