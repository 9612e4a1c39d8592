import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatService, type ChatService } from '../../src/chat/index.js';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createGatewayService, type GatewayService } from '../../src/gateway/register.js';
import { installHttpBasics } from '../../src/platform/http-server.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';

/**
 * `streamReply`'s own signal (RAG's caller signal, shutdown) already aborted when it starts. Over
 * HTTP that signal only aborts together with the client's connection, which streamReply checks
 * itself, so this wires the real ChatService and gateway as app.ts does, behind a one-route server
 * whose client stays connected.
 */
describe('ChatService.streamReply with an already aborted signal', () => {
  let upstream: ScriptedUpstream;
  let cwd: string;
  let store: Store;
  let gateway: GatewayService;
  let chat: ChatService;
  let server: FastifyInstance;
  let url: string;
  let conversationId: number;
  let failure: unknown;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    cwd = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
    const config = loadConfig({ argv: [], env: {}, cwd, overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-key' }], 'gateway.maxAttempts': 1, 'gateway.records.flushIntervalMs': 20, 'chat.bcryptCost': 4 } });
    store = await openStore(config.database, cwd);
    await migrateToLatest(store.db);
    server = Fastify();
    gateway = await createGatewayService({ config, store, log: server.log });
    chat = await createChatService({ config, store, gateway: gateway.gateway, log: server.log });
    const userId = (await chat.users.create('signal-user', 'not-a-login-hash'))!;
    conversationId = (await chat.createConversation({ userId, title: 'signal', model: 'gpt-test' })).id;
    installHttpBasics(server);
    server.post('/reply', async (_request, reply) => {
      const signal = AbortSignal.abort();
      await chat.streamReply({ reply, owner: `user:${userId}`, conversationId, storedUserMessage: 'never asked', signal }).catch((error: unknown) => {
        failure = error;
        throw error;
      });
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await server.close();
    await chat.close();
    await gateway.close();
    await store.close();
    await upstream.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('asks no upstream, stores nothing and records the call as client_closed', async () => {
    const requestsBefore = upstream.requests.length;
    const response = await fetch(`${url}/reply`, { method: 'POST' });
    await response.arrayBuffer();
    expect(upstream.requests.length).toBe(requestsBefore);
    expect(failure).toBeDefined();
    expect(response.status).toBeGreaterThanOrEqual(400);
    const stored = await chat.conversations.messages(conversationId);
    expect(stored.map((message) => message.content)).not.toContain('never asked');
    const outcomes = () => store.db.selectFrom('records').select('outcome').where('path', '=', '/v1/chat/completions').execute();
    for (let attempt = 0; attempt < 100 && (await outcomes()).length === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await outcomes()).toEqual([{ outcome: 'client_closed' }]);
  });
});
