import { X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import { EnvHttpProxyAgent, Pool, type Dispatcher } from "./undici.js";
import { DEFAULT_LIMITS, type Timeouts } from "../limits.js";
import { FetchError } from "./errors.js";

export type { Timeouts } from "../limits.js";
export const DEFAULT_TIMEOUTS: Timeouts = DEFAULT_LIMITS.timeouts;

export interface DispatcherOptions {
  /** Read for HTTP_PROXY, HTTPS_PROXY and NO_PROXY (lower-case variants win, as in curl); process.env is never read implicitly. */
  env: NodeJS.ProcessEnv;
  /** PEM text of a private CA (--ca-file), added to, not replacing, Node's bundled roots. */
  ca?: string;
  timeouts?: Partial<Timeouts>;
}

/**
 * The one dispatcher pkgtrust fetches with. Nothing calls setGlobalDispatcher: the caller
 * passes this object down, so tests and the CLI control proxies and trust explicitly.
 *
 * Proxy rules are undici's EnvHttpProxyAgent: http URLs use HTTP_PROXY as an absolute-URI
 * request (no tunnel, which plain squid setups allow); https URLs use HTTPS_PROXY, or
 * HTTP_PROXY when only that is set, through CONNECT; NO_PROXY lists host names, domain
 * suffixes, host:port pairs or "*". ALL_PROXY and socks are not read.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  // Passing `ca` replaces Node's default store, so the bundled roots are added back
  // (NODE_EXTRA_CA_CERTS is then not consulted: use --ca-file instead).
  const ca = options.ca === undefined ? undefined : [...rootCertificates, ...checkedCaCertificates(options.ca)];
  const tls = { timeout: timeouts.connectMs, ...(ca === undefined ? {} : { ca }) };
  const limits = { headersTimeout: timeouts.headersMs, bodyTimeout: timeouts.bodyMs };
  // undici builds some inner pools (the proxy client, the non-tunnelling wrapper) with
  // default timeouts of five minutes; this factory gives every pool ours.
  const factory = (origin: string | URL, opts: object): Dispatcher => new Pool(origin, { ...opts, ...limits });
  return new EnvHttpProxyAgent({
    ...limits,
    factory,
    clientFactory: factory,
    connect: tls,
    requestTls: tls,
    proxyTls: { timeout: timeouts.connectMs },
    proxyTunnel: false,
    // Empty strings, not undefined: undefined makes undici fall back to process.env.
    httpProxy: proxyUrl(options.env, "http_proxy"),
    httpsProxy: proxyUrl(options.env, "https_proxy"),
    noProxy: options.env.no_proxy ?? options.env.NO_PROXY ?? "",
  });
}

function proxyUrl(env: NodeJS.ProcessEnv, lowerName: string): string {
  const upperName = lowerName.toUpperCase();
  const value = (env[lowerName] ?? env[upperName] ?? "").trim();
  if (value === "") return "";
  // sysinst and many shells set "host:port" without a scheme.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new FetchError("FETCH_BAD_PROXY", `${upperName} is not a URL: ${value}`, { detail: { variable: upperName } });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new FetchError("FETCH_BAD_PROXY", `${upperName} uses ${url.protocol}, only http and https proxies are supported`, { detail: { variable: upperName } });
  }
  return url.href;
}

/** Node silently ignores PEM text without certificates, which would leave --ca-file without effect: reject it. */
function checkedCaCertificates(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new FetchError("FETCH_BAD_CA", "the CA file holds no PEM certificate");
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new FetchError("FETCH_BAD_CA", `certificate ${index + 1} of the CA file cannot be read`, { cause: error, detail: { index: index + 1 } });
    }
  }
  return blocks;
}
