/**
 * The undici modules pkgtrust loads one by one (src/net/undici.ts), typed as undici's index
 * types them: undici has no exports map, so these paths are its own files.
 */
declare module "undici/lib/api/index.js" {
  import type { Dispatcher } from "undici";
  /** The methods undici's index installs on Dispatcher.prototype. */
  const api: Pick<Dispatcher, "request" | "stream" | "pipeline" | "upgrade" | "connect">;
  export = api;
}

declare module "undici/lib/dispatcher/dispatcher.js" {
  import { Dispatcher } from "undici";
  export = Dispatcher;
}

declare module "undici/lib/dispatcher/env-http-proxy-agent.js" {
  import { EnvHttpProxyAgent } from "undici";
  export = EnvHttpProxyAgent;
}

declare module "undici/lib/dispatcher/pool.js" {
  import { Pool } from "undici";
  export = Pool;
}
