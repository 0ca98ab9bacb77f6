/**
 * A loopback HTTP proxy that forwards each request to `target` on a connection of its own. A browser keeps its
 * connections alive, and local workerd (wrangler dev, miniflare) leaves a request on a reused keep-alive connection
 * unanswered while the worker keeps the CPU busy (tests/bench/keepalive-repro.ts): the playground's page load
 * would then wait forever for one image. Deployed, Cloudflare's edge holds the client connections.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Proxy {
  base: string;
  close(): Promise<void>;
}

export async function freshConnectionProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host, connection: 'close' }, agent: false },
      (answer) => {
        const { connection: _connection, 'keep-alive': _keepAlive, ...headers } = answer.headers;
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
