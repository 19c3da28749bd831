import { PkgtrustError } from "../errors.js";
import { FetchError, displayUrl } from "./errors.js";

/** Where a request was when it failed: a broken connection before the headers is a network error, after them an interrupted download. */
export type Phase = "request" | "body";

const TIMEOUT_CODES: Readonly<Record<string, string>> = {
  UND_ERR_CONNECT_TIMEOUT: "connecting timed out",
  UND_ERR_HEADERS_TIMEOUT: "the server sent no response in time",
  UND_ERR_BODY_TIMEOUT: "the server stopped sending data",
  ETIMEDOUT: "the connection timed out",
};

// OpenSSL's X509_verify_cert results as Node names them, plus Node's own host name check.
const TLS_CODES: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chains to an untrusted root",
  UNABLE_TO_GET_ISSUER_CERT: "the issuer of the server's certificate is unknown",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate was issued by an unknown CA",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate cannot be verified",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not yet valid",
  CERT_SIGNATURE_FAILURE: "the signature of the server's certificate is wrong",
  CERT_REVOKED: "the server's certificate is revoked",
  CERT_UNTRUSTED: "the server's certificate is not trusted",
  CERT_REJECTED: "the server's certificate is rejected",
  INVALID_CA: "a CA certificate of the server is not valid for issuing",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is for another host name",
  EPROTO: "the TLS handshake failed (is it an https server?)",
  UND_ERR_PRX_TLS: "the TLS connection to the proxy failed",
};

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "the connection was reset",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name cannot be resolved now",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  EPIPE: "the connection was closed",
  UND_ERR_SOCKET: "the server closed the connection",
  UND_ERR_CLOSED: "the connection was closed",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: "the response was shorter than announced",
};

/** Maps whatever undici or Node threw to one FetchError; raw errors never leave src/net. */
export function classifyError(error: unknown, url: URL, phase: Phase, signal?: AbortSignal): PkgtrustError {
  if (error instanceof PkgtrustError) return error;
  const shown = displayUrl(url);
  const codes = errorCodes(error);
  const detail = { url: shown, phase, cause: codes[0] ?? null };
  const options = { cause: error, detail };
  if (signal?.aborted === true) {
    // The caller's reason (a deadline, a signal, the wizard's Ctrl-C) is the failure.
    return signal.reason instanceof PkgtrustError ? signal.reason : new FetchError("FETCH_ABORTED", `${shown}: the download was cancelled`, options);
  }

  const message = error instanceof Error ? error.message : String(error);
  // undici reports a refused CONNECT or a 407 only through the message text.
  if (/^Proxy (response|Authentication)/.test(message)) return new FetchError("FETCH_PROXY", `${shown}: ${message}`, options);

  for (const code of codes) {
    const timeout = TIMEOUT_CODES[code];
    if (timeout !== undefined) return new FetchError("FETCH_TIMEOUT", `${shown}: ${timeout}`, options);
    const tls = TLS_CODES[code] ?? (/^ERR_(SSL|TLS)_/.test(code) ? `TLS failed (${code})` : undefined);
    if (tls !== undefined) return new FetchError("FETCH_TLS", `${shown}: ${tls}`, options);
    const network = NETWORK_CODES[code];
    if (network !== undefined) {
      return phase === "body"
        ? new FetchError("FETCH_INTERRUPTED", `${shown}: the download broke off: ${network}`, options)
        : new FetchError("FETCH_NETWORK", `${shown}: ${network}`, options);
    }
    if (code === "UND_ERR_ABORTED") return new FetchError("FETCH_ABORTED", `${shown}: the download was cancelled`, options);
  }
  const what = phase === "body" ? "FETCH_INTERRUPTED" : "FETCH_NETWORK";
  return new FetchError(what, `${shown}: ${message.split("\n")[0] ?? "failed"}`, options);
}

/** The `code` of the error and of each `cause`, outermost first (undici wraps socket errors). */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === "object" && current !== null && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}
