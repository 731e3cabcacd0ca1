"""The JWKS cache against a real HTTP server: init fetch, penalty box, timeouts, outages, rotation."""

from __future__ import annotations

import time

import pytest
from cognito_verifier import CognitoIdTokenVerifier, Reason, TokenRejected

from tests.authorizer.conftest import Clock, VerifierFactory
from tests.support.jwks_server import JwksServer
from tests.support.tokens import TokenIssuer, generate_key, jwks


def reason_of(verifier: CognitoIdTokenVerifier, token: str) -> Reason:
    with pytest.raises(TokenRejected) as raised:
        verifier.verify(token)
    return raised.value.reason


def test_the_jwks_is_fetched_once_at_init_and_cached(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer
) -> None:
    verifier = make_verifier()
    assert jwks_server.hits == 1

    for index in range(20):
        verifier.verify(issuer.id_token(sub=f"user-{index}", key=issuer.keys[index % 2]))

    assert jwks_server.hits == 1


def test_made_up_kids_trigger_at_most_one_fetch_per_cooldown_window(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer, clock: Clock
) -> None:
    verifier = make_verifier(refetch_cooldown=30)
    assert jwks_server.hits == 1  # init

    # Given: a flood of tokens under made-up kids, right after the init fetch
    flood = [issuer.id_token(header={"kid": f"made-up-{index}"}) for index in range(200)]
    for token in flood:
        assert reason_of(verifier, token) is Reason.UNKNOWN_KEY
    assert jwks_server.hits == 1  # the init fetch opened the window: no fetch at all

    # When: the window has passed, the flood goes on
    clock.advance(30)
    for token in flood:
        assert reason_of(verifier, token) is Reason.UNKNOWN_KEY

    # Then: exactly one more fetch for the whole flood
    assert jwks_server.hits == 2
    clock.advance(29)
    for token in flood[:50]:
        assert reason_of(verifier, token) is Reason.UNKNOWN_KEY
    assert jwks_server.hits == 2
    clock.advance(1)
    assert reason_of(verifier, flood[0]) is Reason.UNKNOWN_KEY
    assert jwks_server.hits == 3


def test_known_kids_are_served_while_the_penalty_box_is_closed(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer
) -> None:
    verifier = make_verifier()
    assert reason_of(verifier, issuer.id_token(header={"kid": "made-up"})) is Reason.UNKNOWN_KEY

    assert verifier.verify(issuer.id_token()).username == "alice"
    assert jwks_server.hits == 1


def test_a_rotated_in_key_is_picked_up_by_one_refetch(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer, clock: Clock
) -> None:
    verifier = make_verifier(refetch_cooldown=10)
    new_key = generate_key("key-rotated-in")
    jwks_server.set_jwks(jwks(*issuer.keys, new_key))
    clock.advance(10)

    assert verifier.verify(issuer.id_token(key=new_key)).username == "alice"
    assert jwks_server.hits == 2


def test_a_withdrawn_key_stops_being_accepted_once_the_keys_are_older_than_their_max_age(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer, clock: Clock
) -> None:
    verifier = make_verifier(keys_max_age=600)
    token = issuer.id_token(key=issuer.keys[1], lifetime=7200)
    assert verifier.verify(token).username == "alice"

    jwks_server.set_jwks(jwks(issuer.keys[0]))
    clock.advance(599)
    assert verifier.verify(token).username == "alice"  # still fresh: no fetch
    assert jwks_server.hits == 1
    clock.advance(1)

    assert reason_of(verifier, token) is Reason.UNKNOWN_KEY
    assert jwks_server.hits == 2


def test_jwks_down_at_cold_start_fails_closed_then_recovers(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer, clock: Clock
) -> None:
    # Given: the JWKS refuses connections while the container starts
    jwks_server.go_down()
    verifier = make_verifier(refetch_cooldown=5)  # does not raise: the container must still start
    token = issuer.id_token()

    # Then: every token is refused, without a fetch per call inside the window
    assert reason_of(verifier, token) is Reason.KEYS_UNAVAILABLE
    jwks_server.come_up()
    hits = jwks_server.hits
    clock.advance(4)
    assert reason_of(verifier, token) is Reason.KEYS_UNAVAILABLE
    assert jwks_server.hits == hits

    # When: the window has passed, the next call fetches and succeeds
    clock.advance(1)
    assert verifier.verify(token).username == "alice"
    assert jwks_server.hits == hits + 1


def test_a_5xx_at_cold_start_fails_closed_then_recovers(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer, clock: Clock
) -> None:
    jwks_server.status = 503
    verifier = make_verifier(refetch_cooldown=5)
    assert jwks_server.hits == 1
    assert reason_of(verifier, issuer.id_token()) is Reason.KEYS_UNAVAILABLE

    jwks_server.status = None
    clock.advance(5)

    assert verifier.verify(issuer.id_token()).username == "alice"


@pytest.mark.parametrize(
    "document",
    [
        b"<html>not json</html>",
        b'{"no": "keys"}',
        b'{"keys": []}',
        b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}',
    ],
)
def test_a_jwks_without_usable_keys_fails_closed(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer, document: bytes
) -> None:
    jwks_server.set_jwks(document)

    assert reason_of(make_verifier(), issuer.id_token()) is Reason.KEYS_UNAVAILABLE


def test_rsa_keys_shorter_than_2048_bits_are_ignored(
    make_verifier: VerifierFactory, jwks_server: JwksServer
) -> None:
    weak = generate_key("weak-1024", size=1024)
    strong = generate_key("key-a")
    jwks_server.set_jwks(jwks(weak, strong))
    weak_issuer = TokenIssuer(keys=(weak,))
    verifier = make_verifier(client_ids=weak_issuer.client_ids)

    assert reason_of(verifier, weak_issuer.id_token()) is Reason.UNKNOWN_KEY
    assert verifier.keys.kids == frozenset({"key-a"})


def test_a_failed_refresh_keeps_the_cached_keys(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer, clock: Clock
) -> None:
    verifier = make_verifier(refetch_cooldown=1, keys_max_age=60)
    jwks_server.go_down()

    # An unknown kid forces a refresh, which fails; then the keys grow stale, and that refresh fails too.
    clock.advance(1)
    assert reason_of(verifier, issuer.id_token(header={"kid": "made-up"})) is Reason.UNKNOWN_KEY
    clock.advance(60)
    assert verifier.verify(issuer.id_token()).username == "alice"
    jwks_server.status = 500
    jwks_server.come_up()
    clock.advance(1)
    assert verifier.verify(issuer.id_token()).username == "alice"

    assert jwks_server.hits == 2  # init and the 500 (the refused connections never arrived)


def test_a_jwks_slower_than_the_timeout_fails_within_the_timeout(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer
) -> None:
    jwks_server.delay = 5.0
    started = time.monotonic()

    verifier = make_verifier(fetch_timeout=0.5)

    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2.0
    assert reason_of(verifier, issuer.id_token()) is Reason.KEYS_UNAVAILABLE
    assert jwks_server.hits == 1


def test_a_jwks_that_trickles_its_body_is_cut_off_at_the_overall_deadline(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer
) -> None:
    # Every read gets an answer well within the timeout, but the whole body would take seconds.
    jwks_server.trickle = 0.1
    started = time.monotonic()

    verifier = make_verifier(fetch_timeout=0.5)

    assert time.monotonic() - started < 1.5
    assert reason_of(verifier, issuer.id_token()) is Reason.KEYS_UNAVAILABLE


def test_a_slow_refresh_keeps_the_keys_and_gives_up_within_the_timeout(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer, clock: Clock
) -> None:
    verifier = make_verifier(fetch_timeout=0.5, refetch_cooldown=1)
    jwks_server.delay = 5.0
    clock.advance(1)
    started = time.monotonic()

    assert reason_of(verifier, issuer.id_token(header={"kid": "made-up"})) is Reason.UNKNOWN_KEY

    assert time.monotonic() - started < 2.0
    assert verifier.verify(issuer.id_token()).username == "alice"
