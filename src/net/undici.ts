/**
 * The parts of undici that pkgtrust uses, loaded file by file: undici's index evaluates all of
 * undici (fetch, WebSocket, cookies, caches, mocks, and through them Node's own bundled copy
 * of undici), about 50 ms of every network command's start even from the single file.
 */
import api from "undici/lib/api/index.js";
import DispatcherClass from "undici/lib/dispatcher/dispatcher.js";
import EnvHttpProxyAgent from "undici/lib/dispatcher/env-http-proxy-agent.js";
import Pool from "undici/lib/dispatcher/pool.js";
import type { Dispatcher } from "undici";

// What undici's index does on load: every dispatcher gets request, connect ... (the proxy
// agent opens its CONNECT tunnels through connect).
Object.assign(DispatcherClass.prototype, api);

export { EnvHttpProxyAgent, Pool };
export type { Dispatcher };

/** undici's request(url, { dispatcher, ... }) for an http or https URL. */
export function request(url: URL, options: { readonly dispatcher: Dispatcher } & Omit<Dispatcher.RequestOptions, "origin" | "path">): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  return dispatcher.request({ ...rest, origin: url.origin, path: `${url.pathname}${url.search}` });
}
