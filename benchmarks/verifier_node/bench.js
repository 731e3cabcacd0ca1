// aws-jwt-verify's side of benchmarks/bench_verifier.py: the same token, the same JWKS over loopback.
// Input (argv[2]): JSON {jwksUrl, userPoolId, clientId, token, seconds}. Output: one JSON line.
"use strict";

const { performance } = require("node:perf_hooks");

function rate(seconds, verifyOnce) {
  let count = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 200; i++) verifyOnce();
    count += 200;
  }
  return count / ((performance.now() - started) / 1000);
}

async function asyncRate(seconds, verifier, token) {
  let count = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 200; i++) await verifier.verify(token);
    count += 200;
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
  const syncPerSecond = rate(input.seconds, () => verifier.verifySync(input.token));
  const asyncPerSecond = await asyncRate(input.seconds, verifier, input.token);
  process.stdout.write(
    JSON.stringify({
      initMs,
      processUptimeMs: performance.now(),
      syncPerSecond,
      asyncPerSecond,
    }) + "\n",
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
