import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import type { ProcessInput } from './config/process-input.js';
import type { Config } from './config/schema.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Starts serving and installs the graceful shutdown (SIGTERM drains, then exits 0). */
export async function runServer(config: Config, input: ProcessInput): Promise<void> {
  if (config.gateway.noauth && !LOOPBACK.has(config.server.host) && !config.gateway.forceNoauth) {
    throw new Error(
      `-noauth on ${config.server.host || 'all interfaces'} would let anyone use your upstream keys; bind to 127.0.0.1 (-addr 127.0.0.1:${config.server.port}) or add --force-noauth`,
    );
  }
  const app = await buildApp({ config, cwd: input.cwd, isTTY: input.isTTY });
  if (config.gateway.noauth) app.server.log.warn('-noauth: /v1 accepts requests without a gateway key');
  if (app.generatedKey) {
    process.stderr.write(
      `\nNo gateway key was configured, so one was generated and stored (shown only now):\n\n    ${app.generatedKey}\n\nSend it as "Authorization: Bearer <key>", or set AUTHORIZATION to choose your own.\n\n`,
    );
  }
  try {
    await app.server.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    // Not listening: close what the start opened (store pool, broker, timers) so the process
    // exits 1 for its supervisor, rather than running on without a listener.
    await app.close();
    throw error;
  }
  // Installed once listening: close-with-grace also closes on a normal exit, with code 0.
  closeWithGrace({ delay: config.server.drainTimeoutMs }, async ({ signal, err }) => {
    if (err) app.server.log.error({ err }, 'fatal error; shutting down');
    else app.server.log.info({ signal }, 'shutting down');
    await app.close();
  });
}
