import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRecord } from '../support/records.js';
import { startScriptedUpstream, type ScriptedUpstream, type Step } from '../support/scripted-upstream.js';
import { AUTH, startApp, type TestApp } from '../support/start-app.js';

/**
 * Proxied /v1 requests that arrive over the network take the raw lane (src/gateway/proxy-lane.ts);
 * requests injected in-process take Fastify's route. A client must not be able to tell them apart:
 * each case below is sent both ways and must get the same status, headers and body.
 */
interface Case {
  readonly name: string;
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** What the upstream answers (once per way in). */
  readonly upstream?: Step;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const CHAT = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });

const CASES: readonly Case[] = [
  { name: 'a chat completion', path: '/v1/chat/completions', headers: { ...AUTH, ...JSON_TYPE }, body: CHAT },
  { name: "the same under seed 000's /api/v1", path: '/api/v1/chat/completions', headers: { ...AUTH, ...JSON_TYPE }, body: CHAT },
  { name: 'a stream', path: '/v1/chat/completions', headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }) },
  { name: 'no Authorization header', path: '/v1/chat/completions', headers: JSON_TYPE, body: CHAT },
  { name: 'a header that is not Bearer', path: '/v1/chat/completions', headers: { ...JSON_TYPE, authorization: 'Basic abc' }, body: CHAT },
  { name: 'a wrong key', path: '/v1/chat/completions', headers: { ...JSON_TYPE, authorization: 'Bearer sk-wrong' }, body: CHAT },
  { name: 'invalid JSON', path: '/v1/chat/completions', headers: { ...AUTH, ...JSON_TYPE }, body: '{"model":' },
  { name: 'a body over the limit', path: '/v1/chat/completions', headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify({ model: 'gpt-test', pad: 'x'.repeat(5000) }) },
  { name: 'an unknown model', path: '/v1/chat/completions', headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify({ model: 'nope', messages: [] }) },
  { name: "the upstream's own error", path: '/v1/embeddings', headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify({ model: 'gpt-test', input: 'x' }), upstream: { kind: 'json', status: 400, body: { error: { message: 'bad input', type: 'invalid_request_error', code: null } } } },
  { name: 'a GET through to the upstream', method: 'GET', path: '/v1/files?limit=2', headers: AUTH, upstream: { kind: 'json', body: { object: 'list', data: [] } } },
  { name: 'a DELETE', method: 'DELETE', path: '/v1/files/file-1', headers: AUTH, upstream: { kind: 'json', body: { id: 'file-1', deleted: true } } },
  { name: 'an empty POST', path: '/v1/chat/completions', headers: AUTH },
  { name: 'a body without a content type', path: '/v1/chat/completions', headers: AUTH, body: CHAT },
  { name: 'a multipart upload', path: '/v1/audio/transcriptions', headers: { ...AUTH, 'content-type': 'multipart/form-data; boundary=XyZ' }, body: '--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--XyZ--\r\n', upstream: { kind: 'json', body: { text: 'hello' } } },
];

/** Headers that differ between two answers for reasons of their own. */
const VOLATILE = new Set(['date', 'connection', 'keep-alive', 'x-request-id', 'transfer-encoding', 'content-length']);

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function comparable(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => !VOLATILE.has(name.toLowerCase()))
      .map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
}

describe('the raw /v1 lane answers exactly as the Fastify route does', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp({
      overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream' }], 'server.proxyBodyLimitBytes': 4096, 'gateway.records.flushIntervalMs': 20 },
    });
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  async function overNetwork(test: Case): Promise<Answer> {
    if (test.upstream) upstream.enqueue(test.upstream);
    const response = await fetch(`${app.url}${test.path}`, { method: test.method ?? 'POST', headers: test.headers, body: test.body });
    return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
  }

  async function injected(test: Case): Promise<Answer> {
    if (test.upstream) upstream.enqueue(test.upstream);
    const response = await app.app.server.inject({ method: (test.method ?? 'POST') as 'POST', url: test.path, headers: test.headers, ...(test.body !== undefined && { payload: test.body }) });
    return { status: response.statusCode, headers: response.headers as Record<string, string>, body: response.body };
  }

  for (const test of CASES) {
    it(test.name, async () => {
      const lane = await overNetwork(test);
      const fastify = await injected(test);
      expect(comparable(lane.headers)).toEqual(comparable(fastify.headers));
      expect({ status: lane.status, body: lane.body }).toEqual({ status: fastify.status, body: fastify.body });
      // Both carry a request id; the client's own is kept.
      expect(lane.headers['x-request-id'] ?? lane.status).toBeTruthy();
    });
  }

  it("keeps the client's x-request-id on both ways in", async () => {
    const headers = { ...AUTH, ...JSON_TYPE, 'x-request-id': 'lane-id-1' };
    const lane = await overNetwork({ name: '', path: '/v1/chat/completions', headers, body: CHAT });
    expect(lane.headers['x-request-id']).toBe('lane-id-1');
    const fastify = await injected({ name: '', path: '/v1/chat/completions', headers: { ...headers, 'x-request-id': 'lane-id-2' }, body: CHAT });
    expect(fastify.headers['x-request-id']).toBe('lane-id-2');
  });

  it('writes the same one log line per request both ways in', async () => {
    const lineFor = async (requestId: string, send: (headers: Record<string, string>) => Promise<unknown>) => {
      await send({ ...AUTH, ...JSON_TYPE, 'x-request-id': requestId });
      const lines = app.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === 'request' && line['reqId'] === requestId);
      expect(lines).toHaveLength(1);
      const { time: _time, elapsedMs, ttfbMs, reqId: _reqId, pid: _pid, hostname: _hostname, ...rest } = lines[0] ?? {};
      expect(elapsedMs).toBeTypeOf('number');
      expect(ttfbMs).toBeTypeOf('number');
      return rest;
    };
    const lane = await lineFor('log-lane', (headers) => fetch(`${app.url}/v1/chat/completions?trace=1`, { method: 'POST', headers, body: CHAT }).then((response) => response.text()));
    const fastify = await lineFor('log-fastify', (headers) => app.app.server.inject({ method: 'POST', url: '/v1/chat/completions?trace=1', headers, payload: CHAT }));
    expect(lane).toEqual(fastify);
    expect(lane).toMatchObject({ level: 30, method: 'POST', url: '/v1/chat/completions?…', status: 200, model: 'gpt-test', target: 'upstream:config-1', attempts: 1, tokens: 21 });
    expect(lane['principal']).toBeTypeOf('string');
  });

  it('writes a 499 line for a client that leaves before the upstream answered, as its record says', async () => {
    upstream.enqueue({ kind: 'json', body: { id: 'late' }, delayMs: 300 });
    const seenBefore = upstream.requests.length;
    const requestId = 'log-gone';
    const controller = new AbortController();
    const sent = fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { ...AUTH, ...JSON_TYPE, 'x-request-id': requestId }, body: CHAT, signal: controller.signal });
    await expect.poll(() => upstream.requests.length).toBeGreaterThan(seenBefore);
    controller.abort();
    await expect(sent).rejects.toThrow();
    expect(await waitForRecord(app, requestId)).toMatchObject({ status: 499, outcome: 'client_closed' });
    const lines = () => app.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === 'request' && line['reqId'] === requestId);
    await expect.poll(() => lines().length).toBe(1);
    expect(lines()[0]).toMatchObject({ level: 30, method: 'POST', url: '/v1/chat/completions', status: 499, model: 'gpt-test' });
  });
});
