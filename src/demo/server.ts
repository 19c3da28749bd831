import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

export interface StaticServer {
  readonly url: URL;
  close(): Promise<void>;
}

/** Serves a directory read-only on 127.0.0.1 (the demo repository); never listens elsewhere. */
export async function serveDirectory(dir: string): Promise<StaticServer> {
  const server = createServer(async (request, response) => {
    const relative = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    const file = path.join(dir, path.normalize(relative));
    const stats = file.startsWith(dir) ? await stat(file).catch(() => undefined) : undefined;
    if (!stats?.isFile()) {
      response.writeHead(404).end("not found\n");
      return;
    }
    response.writeHead(200, { "content-length": stats.size, "content-type": "application/octet-stream" });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/`),
    // Keep-alive connections (a wizard's fetcher) would hold close() open: end them too.
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
