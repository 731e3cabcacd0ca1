"""Cognito ID-token verification: this verifier vs the RSA floor, PyJWT and aws-jwt-verify (Node).

Everything verifies the same RS256 token against the same JWKS, served over loopback by a real
HTTP server. Warm figures are the best of a few interleaved rounds (the machine is shared, the
best round is the one least disturbed); cold figures are medians over fresh processes.

    python -m benchmarks verifier
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256

from tests.support.jwks_server import JwksServer
from tests.support.tokens import TokenIssuer, b64url_decode

ROOT = Path(__file__).resolve().parent.parent
NODE_PROJECT = ROOT / "benchmarks" / "verifier_node"
NODE_PREFIX = ROOT / "benchmarks" / ".node"  # gitignored: aws-jwt-verify is installed here at run time
ROUND_SECONDS = 0.25
ROUNDS = 24
COLD_RUNS = 7

# Run in a fresh interpreter: what the authorizer's Lambda init does (imports, then the JWKS fetch).
COLD_INIT = """
import json, sys, time
started = time.perf_counter()
import cognito_verifier, telemetry
imported = time.perf_counter()
import handler
initialized = time.perf_counter()
assert handler.VERIFIER.keys.kids, "the JWKS was not fetched"
print(json.dumps({"imports": imported - started, "init": initialized - imported}))
"""
IMPORT_ONLY = """
import json, time
started = time.perf_counter()
{statement}
print(json.dumps({{"imports": time.perf_counter() - started}}))
"""


def per_second(operation: Callable[[], object], seconds: float = ROUND_SECONDS) -> float:
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(200):
            operation()
        count += 200
    return count / (time.perf_counter() - started)


def python_contenders(issuer: TokenIssuer, server: JwksServer, token: str) -> dict[str, Callable[[], object]]:
    sys.path.insert(0, str(ROOT / "authorizer"))
    from cognito_verifier import CognitoIdTokenVerifier

    verifier = CognitoIdTokenVerifier(
        user_pool_id=issuer.user_pool_id,
        client_ids=issuer.client_ids,
        region=issuer.region,
        jwks_url=server.url,
    )
    public_key = jwt.PyJWK(issuer.key.public_jwk()).key
    header, payload, signature = token.split(".")
    signing_input, signature_bytes = f"{header}.{payload}".encode(), b64url_decode(signature)
    padding, hash_algorithm = PKCS1v15(), SHA256()

    def raw_rsa() -> None:
        public_key.verify(signature_bytes, signing_input, padding, hash_algorithm)

    def pyjwt_decode() -> None:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=list(issuer.client_ids),
            issuer=issuer.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        if claims["token_use"] != "id":
            raise ValueError("token_use")

    return {
        "raw RSA-2048 PKCS#1 v1.5 SHA-256 verify (cryptography): the floor": raw_rsa,
        "this verifier: CognitoIdTokenVerifier.verify, every check": lambda: verifier.verify(token),
        f"PyJWT {jwt.__version__} jwt.decode + token_use check": pyjwt_decode,
    }


def pinned_aws_jwt_verify_version() -> str:
    return str(json.loads((NODE_PROJECT / "package.json").read_text())["dependencies"]["aws-jwt-verify"])


def install_aws_jwt_verify() -> str | None:
    """npm ci the pinned aws-jwt-verify into benchmarks/.node; None if it is there, else why not."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not found"
    installed = NODE_PREFIX / "node_modules" / "aws-jwt-verify" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == pinned_aws_jwt_verify_version():
        return None
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(NODE_PROJECT / name, NODE_PREFIX / name)
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_PREFIX,
        capture_output=True,
        text=True,
        check=False,
    )
    return None if result.returncode == 0 else f"npm ci failed: {result.stderr.strip()[-300:]}"


class AwsJwtVerify:
    """aws-jwt-verify in a Node process that runs one measuring round per request."""

    def __init__(self, issuer: TokenIssuer, server: JwksServer, token: str) -> None:
        arguments = {
            "jwksUrl": server.url,
            "userPoolId": issuer.user_pool_id,
            "clientId": list(issuer.client_ids),
            "token": token,
        }
        self._process = subprocess.Popen(
            ["node", str(NODE_PROJECT / "bench.js"), json.dumps(arguments)],
            env={**os.environ, "NODE_PATH": str(NODE_PREFIX / "node_modules")},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.init_seconds = self._answer()["initMs"] / 1000

    def _answer(self) -> dict[str, float]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"aws-jwt-verify benchmark exited with {self._process.wait()}")
        return dict(json.loads(line))

    def per_second(self, mode: str) -> float:
        assert self._process.stdin is not None
        self._process.stdin.write(f"{mode} {ROUND_SECONDS}\n")
        self._process.stdin.flush()
        return self._answer()["perSecond"]

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)


def fresh_process(code: str, env: dict[str, str]) -> tuple[dict[str, float], float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout), time.perf_counter() - started


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms"


def cold_init(issuer: TokenIssuer, server: JwksServer) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "authorizer"),
        "USER_POOL_ID": issuer.user_pool_id,
        "USER_POOL_CLIENT_IDS": ",".join(issuer.client_ids),
        "COGNITO_REGION": issuer.region,
        "JWKS_URL": server.url,
    }
    runs = [fresh_process(COLD_INIT, env) for _ in range(COLD_RUNS)]
    print(f"cold init of the authorizer (median of {COLD_RUNS} fresh processes):")
    print(f"  imports (cognito_verifier, telemetry)          {median_ms([r['imports'] for r, _ in runs])}")
    print(f"  verifier init + JWKS fetch over loopback       {median_ms([r['init'] for r, _ in runs])}")
    totals = [r["imports"] + r["init"] for r, _ in runs]
    print(f"  imports + init                                 {median_ms(totals)}")
    print(f"  whole process (interpreter start to exit)      {median_ms([wall for _, wall in runs])}")
    print("import costs that decided what the authorizer loads (fresh processes, median):")
    for label, statement in (
        ("cryptography (RSA verify only)", "from cryptography.hazmat.primitives.asymmetric import rsa"),
        ("PyJWT (import jwt; pulls cryptography.x509)", "import jwt"),
        ("aws_lambda_powertools Logger + Metrics", "from aws_lambda_powertools import Logger, Metrics"),
        ("boto3", "import boto3"),
    ):
        samples = [
            fresh_process(IMPORT_ONLY.format(statement=statement), env)[0]["imports"] for _ in range(5)
        ]
        print(f"  {label:<46} {median_ms(samples)}")


def main() -> None:
    issuer = TokenIssuer()
    token = issuer.id_token()
    with JwksServer(issuer.jwks()) as server:
        contenders = python_contenders(issuer, server, token)
        node_problem = install_aws_jwt_verify()
        node = None if node_problem else AwsJwtVerify(issuer, server, token)
        if node is not None:
            version = f"aws-jwt-verify {pinned_aws_jwt_verify_version()}"
            contenders[f"{version} verifySync (Node {node_version()})"] = lambda: node.per_second("sync")
            contenders[f"{version} await verify (Node)"] = lambda: node.per_second("async")
        best = dict.fromkeys(contenders, 0.0)
        for _ in range(ROUNDS):  # short interleaved rounds: every contender sees the same machine
            for name, operation in contenders.items():
                rate = operation() if name.startswith("aws-jwt-verify") else per_second(operation)
                best[name] = max(best[name], rate)
        if node is not None:
            node.close()

        print(f"warm verifications per second (best of {ROUNDS} interleaved rounds of {ROUND_SECONDS:g} s):")
        for name, rate in best.items():
            print(f"  {name:<66} {rate:>9,.0f}/s {1e6 / rate:6.1f} us each")
        if node_problem:
            print(f"  aws-jwt-verify: not measured ({node_problem})")
        floor, ours, pyjwt_rate, *node_rates = best.values()
        print("ratios:")
        print(f"  this verifier / RSA floor                      {ours / floor:5.2f}")
        print(f"  this verifier / PyJWT jwt.decode               {ours / pyjwt_rate:5.2f}")
        for label, rate in zip(("verifySync", "await verify"), node_rates, strict=False):
            print(f"  this verifier / aws-jwt-verify {label:<16}{ours / rate:5.2f}")
        cold_init(issuer, server)
        if node is not None:
            print(f"  aws-jwt-verify require + JWKS fetch (Node)     {node.init_seconds * 1000:7.1f} ms")


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    main()
