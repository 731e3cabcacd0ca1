// aws-jwt-verify's side of benchmarks/bench_verifier.py: the same token, the same JWKS over loopback.
// argv[2]: JSON {jwksUrl, userPoolId, clientId, token}. Prints {"initMs": ...} once ready, then
// answers each stdin line "sync <seconds>" or "async <seconds>" with {"perSecond": ...}, so that
// the Python side can interleave short rounds of every contender on a shared machine.
"use strict";

const { performance } = require("node:perf_hooks");
const readline = require("node:readline");

const BATCH = 200;

function syncRate(seconds, verifier, token) {
  let count = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < BATCH; i++) verifier.verifySync(token);
    count += BATCH;
  }
  return count / ((performance.now() - started) / 1000);
}

async function asyncRate(seconds, verifier, token) {
  let count = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < BATCH; i++) await verifier.verify(token);
    count += BATCH;
  }
  return count / ((performance.now() - started) / 1000);
}

async function main() {
  const input = JSON.parse(process.argv[2]);
  const initStarted = performance.now();
  const { CognitoJwtVerifier } = require("aws-jwt-verify");
  const verifier = CognitoJwtVerifier.create({
    userPoolId: input.userPoolId,
    tokenUse: "id",
    clientId: input.clientId, // a list: every app client the authorizer accepts
  });
  // CognitoJwtVerifier derives its JWKS address from the pool id (AWS); hand it the loopback JWKS.
  const response = await fetch(input.jwksUrl);
  verifier.cacheJwks(await response.json());
  const initMs = performance.now() - initStarted;
  const payload = verifier.verifySync(input.token); // throws if the token does not verify
  if (payload.token_use !== "id") throw new Error("unexpected payload");
  process.stdout.write(JSON.stringify({ initMs }) + "\n");

  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [mode, seconds] = line.trim().split(" ");
    const perSecond =
      mode === "sync"
        ? syncRate(Number(seconds), verifier, input.token)
        : await asyncRate(Number(seconds), verifier, input.token);
    process.stdout.write(JSON.stringify({ perSecond }) + "\n");
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
