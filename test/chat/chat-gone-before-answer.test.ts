import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { requireService } from '../support/services.js';
import { newConversation, newUser, startChatApp, type ChatTestApp } from './chat-client.js';

const postgres = await requireService('postgres');

interface LogLine {
  level: number;
  msg: string;
  url?: string;
  status?: number;
}

/**
 * The client leaves while its conversation is being read. To make that window deterministic, a
 * second PostgreSQL session holds an ACCESS EXCLUSIVE lock on `conversations`: the app's lookup
 * waits on it until the test has seen the server close the response, then the lock is released.
 */
describe.skipIf(!postgres.available)('streaming chat: a client gone before the answer starts', () => {
  let upstream: ScriptedUpstream;
  let app: ChatTestApp;
  let locker: pg.Client;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startChatApp({ store: 'postgres', overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-own-key-123456', models: ['gpt-test'] }], 'gateway.maxAttempts': 1 } });
    locker = new pg.Client({ connectionString: app.config.database.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker.end();
    await app.close();
    await upstream.close();
  });

  async function waitFor(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
    for (let attempt = 0; attempt < 150; attempt++) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('calls no upstream and logs one info request line with 499', async () => {
    const user = await newUser(app);
    const { conversation_id: id } = await newConversation(app, user.token);
    const url = `/api/chat/${id}`;
    const server = app.app.server.server;
    const responseClosed = new Promise<void>((resolve) => {
      const onRequest = (request: IncomingMessage, response: ServerResponse) => {
        if (request.url !== url) return;
        server.off('request', onRequest);
        response.once('close', () => resolve());
      };
      server.on('request', onRequest);
    });
    const requestsBefore = upstream.requests.length;
    const from = app.logs.length;

    await locker.query('begin');
    await locker.query('lock table conversations in access exclusive mode');
    const controller = new AbortController();
    const pending = fetch(`${app.url}${url}`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ message: 'gone already' }), signal: controller.signal }).catch(() => undefined);
    try {
      // The app's conversation lookup is waiting on our lock (pg_stat_activity.query may still
      // show the session's previous statement while it waits, so ask who our lock blocks).
      await waitFor(async () => {
        const { rows } = await locker.query<{ waiting: string }>("select count(*) as waiting from pg_stat_activity where pg_blocking_pids(pid) @> array[pg_backend_pid()]");
        return Number(rows[0]?.waiting) > 0;
      }, 'the conversation lookup to wait on the lock');
      controller.abort();
      await pending;
      await responseClosed;
    } finally {
      await locker.query('commit');
    }

    const requestLine = () => app.logs.slice(from).map((line) => JSON.parse(line) as LogLine).find((line) => line.msg === 'request' && line.url === url);
    await waitFor(() => requestLine() !== undefined || upstream.requests.length > requestsBefore, 'the request to end');
    // Give a wrongly started upstream call time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstream.requests.length).toBe(requestsBefore);
    const lines = app.logs.slice(from).map((line) => JSON.parse(line) as LogLine);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines.filter((line) => line.msg === 'request' && line.url === url)).toEqual([expect.objectContaining({ level: 30, status: 499 })]);
  });
});
