/**
 * The floor for a Node proxy: node:http in, one undici Pool out, method/path/headers/body
 * forwarded, the response streamed back with pipe. No auth, routing, parsing or records.
 *
 * Usage: node --import tsx bench/servers/minimal-proxy.ts --port 9002 --upstream http://127.0.0.1:9001
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || !values.upstream) throw new Error('usage: minimal-proxy.ts --port N --upstream ORIGIN');

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'proxy-connection', 'expect']);
const pool = new Pool(values.upstream, { keepAliveTimeout: 10_000 });

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) result[name] = value;
  return result;
}

const server = createServer((request, response) => {
  const method = request.method ?? 'GET';
  pool.request({ method, path: request.url ?? '/', headers: forwardable(request.headers), body: method === 'GET' || method === 'HEAD' ? null : request }).then(
    (upstream) => {
      response.writeHead(upstream.statusCode, forwardable(upstream.headers));
      response.on('close', () => { if (!response.writableFinished) upstream.body.destroy(); });
      upstream.body.pipe(response);
    },
    () => {
      response.writeHead(502).end();
    },
  );
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => void pool.close().then(() => process.exit(0)));
});
