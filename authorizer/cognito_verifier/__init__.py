"""Verification of Amazon Cognito ID tokens (RS256), as strict as aws-jwt-verify.

verifier = CognitoIdTokenVerifier.from_environ()   # once per process: fetches the JWKS
identity = verifier.verify(token)                  # VerifiedIdToken, or raises TokenRejected
"""

from cognito_verifier.claims import VerifiedIdToken
from cognito_verifier.reasons import Reason, TokenRejected
from cognito_verifier.settings import VerifierSettings
from cognito_verifier.verifier import CognitoIdTokenVerifier

__all__ = ["CognitoIdTokenVerifier", "Reason", "TokenRejected", "VerifiedIdToken", "VerifierSettings"]
