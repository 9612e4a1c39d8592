import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { buildApp, type SwitchboardApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { openAppLogs } from './open-app-logs.js';
import { createPostgresSchema, type StoreKind } from './stores.js';

import { TEST_KEY } from './test-key.js';

export { TEST_KEY };
export const AUTH = { authorization: `Bearer ${TEST_KEY}` } as const;

export interface StartAppOptions {
  /** Dotted schema paths → values (strongest config layer). */
  readonly overrides?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly argv?: string[];
  readonly store?: StoreKind;
  /** Reuse a working directory (restart tests); a fresh temp dir otherwise. */
  readonly cwd?: string;
}

export interface TestApp {
  readonly url: string;
  readonly app: SwitchboardApp;
  readonly config: Config;
  readonly cwd: string;
  /** Every log line the app wrote, raw JSON text. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** Builds the real app with buildApp, listens on 127.0.0.1:0 (fastify/demo's test helper). */
export async function startApp(options: StartAppOptions = {}): Promise<TestApp> {
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const postgres = options.store === 'postgres' ? await createPostgresSchema() : undefined;
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const config = loadConfig({
    argv: options.argv ?? [],
    env: options.env ?? {},
    cwd,
    overrides: {
      'server.host': '127.0.0.1',
      'server.port': 0,
      'log.level': 'debug',
      'gateway.authorization': [TEST_KEY],
      ...(postgres ? { 'database.url': postgres.url } : {}),
      ...options.overrides,
    },
  });
  const app = await buildApp({ config, cwd, logStream });
  await app.server.listen({ host: config.server.host, port: config.server.port });
  const { port } = app.server.server.address() as AddressInfo;
  let closed = false;
  const url = `http://127.0.0.1:${port}`;
  openAppLogs.set(url, logs);
  return {
    url,
    app,
    config,
    cwd,
    logs,
    async close() {
      if (closed) return;
      closed = true;
      openAppLogs.delete(url);
      await app.close();
      await postgres?.drop();
      if (!options.cwd) rmSync(cwd, { recursive: true, force: true });
    },
  };
}
