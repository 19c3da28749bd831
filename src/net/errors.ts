import { EXIT, errorClass } from "../errors.js";

/** Every failure of the fetcher; messages name the URL (without credentials). */
export const FetchError = errorClass("FetchError", {
  FETCH_BAD_URL: { exit: EXIT.FETCH, next: "Use an http://, https:// or file:// URL, or an absolute path." },
  FETCH_BAD_PROXY: { exit: EXIT.FETCH, next: "Set HTTP_PROXY/HTTPS_PROXY to a URL such as http://proxy.example:3128/." },
  FETCH_BAD_CA: { exit: EXIT.FETCH, next: "Pass --ca-file a PEM file holding the certificate of the CA that issued the server's certificate." },
  FETCH_NOT_FOUND: { exit: EXIT.FETCH, next: "Check the repository URL: the server has no such file." },
  FETCH_HTTP_STATUS: { exit: EXIT.FETCH, next: "Check the repository URL, or try again later if the server is failing." },
  FETCH_NETWORK: { exit: EXIT.FETCH, next: "Check the host name and the network; behind a proxy, set HTTP_PROXY/HTTPS_PROXY." },
  FETCH_TIMEOUT: { exit: EXIT.FETCH, next: "Check the network; behind a proxy, set HTTP_PROXY/HTTPS_PROXY; or try again later." },
  FETCH_INTERRUPTED: { exit: EXIT.FETCH, next: "The connection broke during the download: try again." },
  FETCH_DEADLINE: { exit: EXIT.FETCH, next: "The server sends too slowly to finish in time: try another mirror, or the same one later." },
  FETCH_ABORTED: { exit: EXIT.FETCH, next: "The download was cancelled; run the command again to retry." },
  FETCH_TOO_LARGE: { exit: EXIT.FETCH, next: "Check the repository URL: the server sends far more data than this file can hold." },
  FETCH_TOO_MANY_REDIRECTS: { exit: EXIT.FETCH, next: "Use the final URL of the repository directly." },
  FETCH_REDIRECT_LOOP: { exit: EXIT.FETCH, next: "The server redirects in a circle: check the repository URL or report it to its operator." },
  FETCH_INSECURE_REDIRECT: { exit: EXIT.FETCH, next: "The server redirects from https to a weaker scheme: use an https mirror that stays on https." },
  FETCH_TLS: { exit: EXIT.FETCH, next: "Check the host name in the URL; for a private CA, pass --ca-file." },
  FETCH_PROXY: { exit: EXIT.FETCH, next: "The proxy refused the request: check HTTP_PROXY/HTTPS_PROXY and NO_PROXY." },
  FETCH_FILE_NOT_FOUND: { exit: EXIT.FETCH, next: "Check the path: is the installation medium mounted?" },
  FETCH_FILE_UNREADABLE: { exit: EXIT.FETCH, next: "Check the file's permissions, or run as a user who may read it." },
});
export type FetchError = InstanceType<typeof FetchError>;

/** The URL as shown to people: never the password of a user:password@ URL. */
export function displayUrl(url: URL): string {
  if (url.password === "") return url.href;
  const shown = new URL(url.href);
  shown.password = "***";
  return shown.href;
}
