/**
 * The environment the page talks to, read from the stack outputs served next to the page
 * (`outputs.json`: `.local/outputs.json` locally, `outputs/<env>.json` for a deployed stack).
 */

/**
 * @typedef {object} ChatConfig
 * @property {string} region
 * @property {string} userPoolClientId
 * @property {string} websocketUrl
 * @property {string} cognitoEndpoint where InitiateAuth goes (moto locally, the regional endpoint on AWS)
 * @property {string | undefined} managedLoginUrl the Cognito domain's base URL, when the environment has one
 */

const REQUIRED = ["Region", "UserPoolClientId", "WebSocketUrl"];

export class ConfigError extends Error {}

/**
 * The page's settings from the outputs file.
 * @param {string} [url] where the outputs are served (default: next to the page)
 * @returns {Promise<ChatConfig>}
 */
export async function loadConfig(url = "outputs.json") {
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (error) {
    throw new ConfigError(`cannot load ${url}: ${error instanceof Error ? error.message : error}`);
  }
  if (!response.ok) throw new ConfigError(`cannot load ${url}: HTTP ${response.status}`);
  /** @type {Record<string, string>} */
  const outputs = await response.json().catch(() => {
    throw new ConfigError(`${url} is not JSON`);
  });
  const missing = REQUIRED.filter((key) => typeof outputs[key] !== "string" || outputs[key] === "");
  if (missing.length > 0) throw new ConfigError(`${url} lacks ${missing.join(", ")}`);
  return configFrom(outputs);
}

/**
 * @param {Record<string, string>} outputs the stack outputs
 * @returns {ChatConfig}
 */
export function configFrom(outputs) {
  return {
    region: outputs.Region,
    userPoolClientId: outputs.UserPoolClientId,
    websocketUrl: outputs.WebSocketUrl,
    cognitoEndpoint: outputs.CognitoEndpoint ?? `https://cognito-idp.${outputs.Region}.amazonaws.com/`,
    managedLoginUrl: outputs.ManagedLoginUrl || undefined,
  };
}
