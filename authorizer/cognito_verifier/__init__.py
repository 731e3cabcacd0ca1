"""Verification of Amazon Cognito ID tokens (RS256), as strict as aws-jwt-verify.

verifier = CognitoIdTokenVerifier.from_environ()   # once per process: fetches the JWKS
identity = verifier.verify(token)                  # VerifiedIdToken, or raises TokenRejected

`CognitoIdTokenVerifier` (PyJWT, cryptography) is imported on first use: a function that only
parses `VerifierSettings` (every chat function does, at init) does not pay for loading them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cognito_verifier.claims import VerifiedIdToken
from cognito_verifier.reasons import Reason, TokenRejected
from cognito_verifier.settings import VerifierSettings

if TYPE_CHECKING:
    from cognito_verifier.verifier import CognitoIdTokenVerifier

__all__ = ["CognitoIdTokenVerifier", "Reason", "TokenRejected", "VerifiedIdToken", "VerifierSettings"]


def __getattr__(name: str) -> object:
    if name == "CognitoIdTokenVerifier":
        from cognito_verifier.verifier import CognitoIdTokenVerifier

        return CognitoIdTokenVerifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
