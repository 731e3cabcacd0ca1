/**
 * Signing in to the stack's Cognito user pool, and the session the chat client takes its tokens from.
 *
 * Two ways in:
 * - `USER_PASSWORD_AUTH`: `InitiateAuth` over `fetch`, where the environment's app client allows it
 *   (local and dev).
 * - Managed login: the authorization-code flow with PKCE against the environment's Cognito domain
 *   (`ManagedLoginUrl`), where one is configured.
 *
 * Tokens live in memory. Only the refresh token is kept, in `sessionStorage` (this tab, until it
 * closes), so that a reload signs the user back in; nothing stays in the URL after sign-in.
 */

import { codeChallenge, randomString } from "./pkce.js";

/** @typedef {import("./config.js").ChatConfig} ChatConfig */
/** @typedef {"password" | "managed"} SignInMethod */

/**
 * @typedef {object} Tokens
 * @property {string} idToken
 * @property {string} [refreshToken]
 */

const REFRESH_KEY = "chat.refresh";
const LOGIN_KEY = "chat.login";
/** Fetch a new ID token when the current one has less than this left. */
const RENEW_BEFORE_MS = 120_000;
const SCOPES = "openid email profile";

export class AuthError extends Error {
  /**
   * @param {string} code Cognito's error type (e.g. `NotAuthorizedException`) or the OAuth `error`
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "AuthError";
    this.code = code;
  }
}

/**
 * The claims of a JWT (not verified: the server verifies; the page only reads `exp` and `email`).
 * @param {string} token
 * @returns {Record<string, any>}
 */
export function claimsOf(token) {
  const part = token.split(".")[1] ?? "";
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

/** One signed-in user's tokens; `getToken()` is the chat client's token provider. */
export class Session {
  #config;
  #method;
  /** @type {string} */
  #idToken;
  /** @type {string | undefined} */
  #refreshToken;
  /** @type {Promise<string> | null} */
  #renewing = null;

  /**
   * @param {ChatConfig} config
   * @param {SignInMethod} method
   * @param {Tokens} tokens
   */
  constructor(config, method, tokens) {
    this.#config = config;
    this.#method = method;
    this.#idToken = tokens.idToken;
    this.#refreshToken = tokens.refreshToken;
    if (this.#refreshToken) sessionStorage.setItem(REFRESH_KEY, JSON.stringify({ method, token: this.#refreshToken }));
  }

  get method() {
    return this.#method;
  }

  /** The ID token's claims (`sub`, `email`, `exp`, ...). */
  get claims() {
    return claimsOf(this.#idToken);
  }

  /** A current ID token, renewed with the refresh token when it is about to expire. */
  async getToken() {
    if (claimsOf(this.#idToken).exp * 1000 - Date.now() > RENEW_BEFORE_MS || !this.#refreshToken) return this.#idToken;
    this.#renewing ??= refresh(this.#config, this.#method, this.#refreshToken)
      .then((tokens) => (this.#idToken = tokens.idToken))
      .finally(() => (this.#renewing = null));
    return this.#renewing;
  }

  /** Forgets the tokens; for managed login, returns the Cognito logout URL to go to. */
  signOut() {
    sessionStorage.removeItem(REFRESH_KEY);
    if (this.#method !== "managed" || this.#config.managedLoginUrl === undefined) return undefined;
    const url = new URL("/logout", this.#config.managedLoginUrl);
    url.searchParams.set("client_id", this.#config.userPoolClientId);
    url.searchParams.set("logout_uri", pageUrl());
    return url.toString();
  }
}

/**
 * Signs in with e-mail and password (`InitiateAuth`, `USER_PASSWORD_AUTH`).
 * @param {ChatConfig} config
 * @param {string} email
 * @param {string} password
 */
export async function signInWithPassword(config, email, password) {
  const reply = await initiateAuth(config, "USER_PASSWORD_AUTH", { USERNAME: email, PASSWORD: password });
  return new Session(config, "password", reply);
}

/**
 * Signs back in with the refresh token this tab kept, if any (after a reload).
 * @param {ChatConfig} config
 * @returns {Promise<Session | null>}
 */
export async function resumeSession(config) {
  const stored = sessionStorage.getItem(REFRESH_KEY);
  if (stored === null) return null;
  const { method, token } = JSON.parse(stored);
  try {
    const tokens = await refresh(config, method, token);
    return new Session(config, method, { idToken: tokens.idToken, refreshToken: token });
  } catch (error) {
    sessionStorage.removeItem(REFRESH_KEY);
    throw error;
  }
}

/**
 * Goes to the managed login page (authorization code with PKCE). The verifier and `state` wait in
 * `sessionStorage` for the redirect back; they are not tokens and are removed on return.
 * @param {ChatConfig} config
 */
export async function startManagedLogin(config) {
  if (config.managedLoginUrl === undefined) throw new AuthError("NoManagedLogin", "this environment has no Cognito domain");
  const verifier = randomString(32);
  const state = randomString(16);
  sessionStorage.setItem(LOGIN_KEY, JSON.stringify({ verifier, state }));
  const url = new URL("/oauth2/authorize", config.managedLoginUrl);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.userPoolClientId,
    redirect_uri: pageUrl(),
    scope: SCOPES,
    state,
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

/**
 * Finishes a managed login when the page is the redirect back (`?code=&state=`, or `?error=`), and
 * removes those parameters from the address bar. Returns null when the page was not redirected.
 * @param {ChatConfig} config
 * @returns {Promise<Session | null>}
 */
export async function completeManagedLogin(config) {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return null;
  const pending = sessionStorage.getItem(LOGIN_KEY);
  sessionStorage.removeItem(LOGIN_KEY);
  history.replaceState(null, "", pageUrl());
  if (params.has("error")) {
    throw new AuthError(params.get("error") ?? "", params.get("error_description") || "the sign-in was refused");
  }
  const { verifier, state } = pending === null ? {} : JSON.parse(pending);
  if (verifier === undefined || params.get("state") !== state) {
    throw new AuthError("InvalidState", "this sign-in was not started by this tab: sign in again");
  }
  const tokens = await tokenRequest(config, {
    grant_type: "authorization_code",
    client_id: config.userPoolClientId,
    code: params.get("code") ?? "",
    redirect_uri: pageUrl(),
    code_verifier: verifier,
  });
  return new Session(config, "managed", tokens);
}

/** The page's own address without query or fragment: the OAuth redirect and logout URI. */
function pageUrl() {
  return location.origin + location.pathname;
}

/**
 * @param {ChatConfig} config
 * @param {SignInMethod} method
 * @param {string} refreshToken
 * @returns {Promise<Tokens>}
 */
function refresh(config, method, refreshToken) {
  if (method === "managed") {
    return tokenRequest(config, { grant_type: "refresh_token", client_id: config.userPoolClientId, refresh_token: refreshToken });
  }
  return initiateAuth(config, "REFRESH_TOKEN_AUTH", { REFRESH_TOKEN: refreshToken });
}

/**
 * Cognito's `InitiateAuth` over `fetch` (the AWS JSON protocol; no credentials needed).
 * @param {ChatConfig} config
 * @param {string} flow
 * @param {Record<string, string>} parameters
 * @returns {Promise<Tokens>}
 */
async function initiateAuth(config, flow, parameters) {
  const response = await send(config.cognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({ AuthFlow: flow, ClientId: config.userPoolClientId, AuthParameters: parameters }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = String(body.__type ?? `HTTP${response.status}`).split("#").pop() ?? "";
    throw new AuthError(code, body.message ?? `sign-in failed (HTTP ${response.status})`);
  }
  const result = body.AuthenticationResult;
  if (result === undefined) {
    throw new AuthError(body.ChallengeName ?? "Challenge", `Cognito asks for ${body.ChallengeName}, which this page does not support`);
  }
  return { idToken: result.IdToken, refreshToken: result.RefreshToken };
}

/**
 * The Cognito domain's token endpoint (form-encoded, public client: no secret).
 * @param {ChatConfig} config
 * @param {Record<string, string>} form
 * @returns {Promise<Tokens>}
 */
async function tokenRequest(config, form) {
  const response = await send(new URL("/oauth2/token", config.managedLoginUrl).toString(), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || typeof body.id_token !== "string") {
    throw new AuthError(body.error ?? `HTTP${response.status}`, body.error_description ?? body.error ?? "the token request failed");
  }
  return { idToken: body.id_token, refreshToken: body.refresh_token };
}

/**
 * `fetch` whose network failure is an AuthError that says where it could not go.
 * @param {string} url
 * @param {RequestInit} init
 */
async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch {
    throw new AuthError("NetworkError", `cannot reach ${new URL(url).origin}`);
  }
}
