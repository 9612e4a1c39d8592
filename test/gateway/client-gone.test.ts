import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { clientCloseSignal } from '../../src/gateway/client-signal.js';
import { createGatewayService, type GatewayService } from '../../src/gateway/register.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';

/**
 * A client that is gone before its exchange starts (a chat, RAG or browser caller whose client
 * left while it read the database): its abort event has fired already and will not fire again,
 * so the exchange must read the signal's state, not only wait for the event.
 */
describe('a client already gone when the exchange starts', () => {
  let upstream: ScriptedUpstream;
  let store: Store;
  let service: GatewayService;
  let cwd: string;
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    cwd = mkdtempSync(join(tmpdir(), 'switchboard-gone-'));
    const config = loadConfig({
      argv: [],
      env: {},
      cwd,
      overrides: { 'gateway.authorization': ['sk-test-gateway-key'], 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-up' }], 'gateway.records.flushIntervalMs': 20 },
    });
    store = await openStore(config.database, cwd);
    await migrateToLatest(store.db);
    service = await createGatewayService({ config, store, log: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await service.close();
    await store.close();
    await upstream.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('an in-process caller with an aborted signal gets client_closed and the upstream is never called', async () => {
    upstream.enqueue({ kind: 'json', body: { late: true }, delayMs: 500 });
    const before = upstream.requests.length;
    const forwarding = service.gateway.forward({
      path: '/v1/chat/completions',
      body: { model: 'gpt-test', messages: [{ role: 'user', content: 'hello' }] },
      principal: { kind: 'user', id: 'u1' },
      signal: AbortSignal.abort(),
    });
    await expect(forwarding).rejects.toMatchObject({ code: 'client_closed' });
    await sleep(100);
    expect(upstream.requests.length).toBe(before);
    const records = () => store.db.selectFrom('records').select(['status', 'outcome', 'attempts']).where('key_id', '=', 'u1').execute();
    await expect.poll(records, { timeout: 3_000 }).toEqual([{ status: 499, outcome: 'client_closed', attempts: 0 }]);
  });

  it("the /v1 proxy's signal reads a response whose client already closed as aborted", async () => {
    const closed = new Promise<ServerResponse>((resolve) => {
      const server = createServer((_request, response) => {
        response.once('close', () => {
          resolve(response);
          server.close();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
          socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
          setTimeout(() => socket.destroy(), 50);
        });
      });
    });
    const response = await closed;
    expect(clientCloseSignal(response).aborted).toBe(true);
  });
});
