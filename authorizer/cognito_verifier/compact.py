"""Strict parsing of a JWS compact serialization, before any key is touched.

One regular expression checks the shape (three base64url segments, no padding, nothing else) in C;
the header is then decoded and checked. The payload is only decoded after the signature verifies.
"""

from __future__ import annotations

import binascii
import json
import re
from typing import Any

from cognito_verifier.reasons import Reason, TokenRejected

ALGORITHM = "RS256"

# header.payload.signature; the signature may be empty here so that `alg: none` tokens are
# reported as the wrong algorithm rather than as a shape error.
_COMPACT = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)")
# Cognito kids are base64 strings; nothing that could be a path, a URL or a control character.
_KID = re.compile(r"[A-Za-z0-9+/=_-]{1,128}")
_TO_STANDARD_ALPHABET = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")  # by length % 4 (a remainder of 1 is never valid)
# The last character of a canonical encoding leaves its unused low bits zero: reject the other
# spellings of the same signature bytes (signature malleability).
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


def b64url_decode(segment: str) -> bytes:
    """Decode an unpadded base64url segment whose alphabet was already checked."""
    remainder = len(segment) % 4
    if remainder == 1:
        raise TokenRejected(Reason.MALFORMED, "segment length is not valid base64url")
    return binascii.a2b_base64(segment.encode("ascii").translate(_TO_STANDARD_ALPHABET) + _PADDING[remainder])


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# RFC 8259 JSON: Python's parser would also take NaN, Infinity and -Infinity.
_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def decode_json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = _JSON.decode(b64url_decode(segment).decode("utf-8"))
    except (ValueError, RecursionError) as error:  # binascii.Error and JSONDecodeError are ValueErrors
        raise TokenRejected(Reason.MALFORMED, f"{what} is not base64url JSON") from error
    if not isinstance(value, dict):
        raise TokenRejected(Reason.MALFORMED, f"{what} is not a JSON object")
    return value


def split(token: object, *, max_length: int) -> re.Match[str]:
    """Check size and shape of `token` before any decoding; groups 1-3 are its three segments.

    ``token[: match.end(2)]`` is the signing input: the header and payload exactly as received.
    """
    if token is None or token == "":
        raise TokenRejected(Reason.MISSING)
    if not isinstance(token, str):
        raise TokenRejected(Reason.MALFORMED, "token is not a string")
    if len(token) > max_length:
        raise TokenRejected(Reason.TOO_LARGE, f"{len(token)} characters, the cap is {max_length}")
    match = _COMPACT.fullmatch(token)
    if match is None:
        raise TokenRejected(Reason.MALFORMED, "not three base64url segments")
    return match


def header_kid(header_segment: str) -> str:
    """Decode and check the header (RS256, no `crit`, a well-formed kid); return the kid."""
    header = decode_json_object(header_segment, "header")
    if header.get("alg") != ALGORITHM:
        raise TokenRejected(Reason.WRONG_ALGORITHM, "alg is not RS256")
    if "crit" in header:
        raise TokenRejected(Reason.MALFORMED, "critical header extensions are not supported")
    kid = header.get("kid")
    if not isinstance(kid, str) or _KID.fullmatch(kid) is None:
        raise TokenRejected(Reason.MALFORMED, "kid is missing or has characters a Cognito kid never has")
    return kid


def signature_bytes(signature_segment: str) -> bytes:
    """Decode the signature, refusing any spelling but the canonical one."""
    last = _CANONICAL_LAST.get(len(signature_segment) % 4)
    if last is not None and signature_segment[-1] not in last:
        raise TokenRejected(Reason.MALFORMED, "signature is not canonical base64url")
    try:
        return b64url_decode(signature_segment)
    except binascii.Error as error:
        raise TokenRejected(Reason.MALFORMED, "signature is not base64url") from error
