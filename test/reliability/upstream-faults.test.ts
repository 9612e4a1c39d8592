import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, postChat, waitForRecord } from '../support/records.js';
import { readSse } from '../support/sse-client.js';
import { chatCompletion, chunk, usageChunk, type Step } from '../support/scripted-upstream.js';
import { FAST, chat, runScenario, startRig, type Rig } from './harness.js';

/** RELIABILITY F1–F10, F13 as ledger verdicts: every request ends in exactly one recognisable outcome. */
let rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs) await rig.close();
  rigs = [];
});

async function rig(count: number, overrides: Record<string, unknown> = {}): Promise<Rig> {
  const started = await startRig(count, { overrides });
  rigs.push(started);
  return started;
}

/** Three streams and three plain calls. */
const MIXED = [true, false, true, false, true, false].map((stream) => ({ body: chat(stream) }));
const events = (count: number) => [chunk('', { role: true }), ...Array.from({ length: count }, (_, index) => chunk(`w${index} `)), chunk(undefined, { finish: 'stop' })];
const attemptsOf = (target: Rig, id: string) => target.upstreams.flatMap((upstream) => upstream.requests).filter((request) => request.requestId === id).length;

describe('failover before the first byte (F1–F5)', () => {
  it('F1: 500/502/503 before headers are retried elsewhere; every client sees one 200, one row each', async () => {
    const target = await rig(2);
    const [a] = target.upstreams;
    for (const status of [500, 502, 503, 503, 502, 500]) a!.enqueue({ kind: 'json', status, body: { error: { message: 'down' } } });
    const { verdict } = await runScenario({ rig: target, name: 'f1', requests: MIXED });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(6);
    for (let index = 0; index < 6; index++) expect(attemptsOf(target, `f1-${index}`)).toBeLessThanOrEqual(3);
  });

  it('F2: a 429 with Retry-After cools the upstream down; nothing reaches it during the cool-down', async () => {
    const target = await rig(2);
    const [a, b] = target.upstreams;
    a!.enqueue({ kind: 'json', status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': '30' } });
    const { verdict } = await runScenario({ rig: target, name: 'f2', requests: MIXED });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(6);
    expect(a!.requests).toHaveLength(1);
    expect(b!.requests).toHaveLength(6);
  });

  it('F3: 400/401/404/422 are final: passed through in OpenAI shape, never retried, never carrying our key', async () => {
    const target = await rig(2);
    const [a, b] = target.upstreams;
    // 401 last: it marks the upstream's key suspect, and `main` would then prefer b.
    for (const status of [400, 404, 422, 401]) {
      a!.enqueue({ kind: 'json', status, body: { error: { message: `refused ${status}`, type: 'invalid_request_error', code: null } } });
    }
    const { verdict, client } = await runScenario({ rig: target, name: 'f3', requests: MIXED.slice(0, 4) });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('clean-error')).toBe(4);
    expect(client.map((entry) => entry.status)).toEqual([400, 404, 422, 401]);
    expect(b!.requests).toHaveLength(0);
    for (let index = 0; index < 4; index++) expect(attemptsOf(target, `f3-${index}`)).toBe(1);
    expect(client.every((entry) => !entry.body.includes('sk-up-'))).toBe(true);
  });

  it('F4: connection refused on the first upstream fails over within the connect timeout', async () => {
    const b = await rig(1);
    const target = await rig(1, { 'gateway.upstreams': [{ endpoint: `http://127.0.0.1:${await closedPort()}/v1`, sk: 'sk-up-dead' }, { endpoint: `${b.upstreams[0]!.url}/v1`, sk: 'sk-up-b' }] });
    const { verdict } = await runScenario({ rig: { ...target, upstreams: b.upstreams }, name: 'f4', requests: MIXED });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(6);
  });

  it('F5: a silent upstream hits the first-byte timeout and is abandoned; the client is served by the next', async () => {
    const target = await rig(2);
    const [a] = target.upstreams;
    a!.enqueue({ kind: 'silent' });
    const { verdict } = await runScenario({ rig: target, name: 'f5', requests: MIXED.slice(0, 2) });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(2);
    expect(attemptsOf(target, 'f5-0')).toBe(2);
    await expect.poll(() => a!.requests[0]?.abortedAt).toBeDefined();
  });
});

describe('faults after the first byte (F6–F9)', () => {
  const midStream: [string, Step][] = [
    ['F6 stall', { kind: 'sse', events: events(8), stallAfter: 5 }],
    ['F7 reset', { kind: 'sse', events: events(8), resetAfter: 5 }],
    ['F8 FIN without [DONE]', { kind: 'sse', events: events(8), closeAfter: 5 }],
    ['F9 10 MiB line', { kind: 'sse', events: events(4), malformedAt: { index: 3, kind: 'huge-line' } }],
  ];

  it('F6–F9: stall, reset, FIN and an oversize line each end in one error event, no [DONE], no retry', async () => {
    const target = await rig(2);
    const [a, b] = target.upstreams;
    for (const [, step] of midStream) a!.enqueue(step);
    const { verdict, client } = await runScenario({ rig: target, name: 'f6', requests: midStream.map(() => ({ body: chat(true) })) });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('clean-error')).toBe(4);
    expect(b!.requests).toHaveLength(0);
    const codes = client.map((entry) => JSON.parse(entry.events.at(-1)!).error.code);
    expect(codes).toEqual(['upstream_idle_timeout', 'upstream_reset', 'upstream_incomplete', 'upstream_malformed']);
  });

  it("F8: a stream the upstream ends with its own in-band error event keeps that one error event; none of ours is added", async () => {
    const target = await rig(2);
    const [a, b] = target.upstreams;
    const upstreamError = { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } };
    a!.enqueue({ kind: 'sse', events: [...events(2), upstreamError], done: false });
    const { verdict, client } = await runScenario({ rig: target, name: 'f8e', requests: [{ body: chat(true) }] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('clean-error')).toBe(1);
    expect(JSON.parse(client[0]!.events.at(-1)!)).toEqual(upstreamError);
    expect(b!.requests).toHaveLength(0);
    expect(await waitForRecord(target.app, 'f8e-0')).toMatchObject({ status: 502, outcome: 'upstream_incomplete', error_class: 'upstream_error_event' });
  });

  it('F9: malformed but complete streams pass through byte-exact; the parser never throws', async () => {
    const target = await rig(1);
    const [a] = target.upstreams;
    const euro = Buffer.from(`data: ${JSON.stringify(chunk('€ ✓ 你好'))}\n\n`);
    const cut = euro.indexOf(0xe2) + 1;
    const crlf = [`: keep-alive\r\n\r\n`, `data: ${JSON.stringify(chunk('crlf'))}\r\n\r\n`, `data: ${JSON.stringify(chunk(undefined, { finish: 'stop' }))}\r\n\r\n`, 'data: [DONE]\r\n\r\n'];
    const split = [euro.subarray(0, cut), euro.subarray(cut), Buffer.from(`data: ${JSON.stringify(chunk(undefined, { finish: 'stop' }))}\n\ndata: [DONE]\n\n`)];
    a!.enqueue(
      { kind: 'sse', events: events(3), malformedAt: { index: 2, kind: 'bad-json' } },
      { kind: 'sse', events: events(3), malformedAt: { index: 2, kind: 'invalid-utf8' } },
      { kind: 'sse', events: events(3), malformedAt: { index: 1, kind: 'no-blank-line' } },
      { kind: 'sse', events: [], raw: crlf, done: false },
      { kind: 'sse', events: [], raw: split, done: false },
    );
    const { verdict, client } = await runScenario({ rig: target, name: 'f9', requests: [0, 1, 2, 3, 4].map(() => ({ body: chat(true) })) });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(5);
    expect(client[3]!.body).toBe(crlf.join(''));
    expect(client[4]!.body).toBe(Buffer.concat(split).toString('utf8'));
  });

  it('F10 (small): a slow but steady upstream stays open and completes', async () => {
    const target = await rig(1);
    target.upstreams[0]!.enqueue({ kind: 'sse', events: [...events(6), usageChunk(5, 6)], intervalMs: 150 });
    const { verdict } = await runScenario({ rig: target, name: 'f10', requests: [{ body: chat(true) }] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(1);
  });
});

describe('ejection (F13)', () => {
  it('an upstream failing 100 % is ejected; clients never see it; it gets traffic again after recovery', async () => {
    const target = await rig(2, { 'gateway.health.failureThreshold': 2, 'gateway.health.baseEjectionMs': 300, 'gateway.policy': 'round_robin' });
    const [a] = target.upstreams;
    a!.setFallback({ kind: 'json', status: 500, body: { error: { message: 'down' } } });
    const failing = await runScenario({ rig: target, name: 'f13a', requests: [...MIXED, ...MIXED] });
    expect(failing.verdict.violations).toEqual([]);
    expect(failing.verdict.count('ok')).toBe(12);
    expect(a!.requests.length).toBeLessThanOrEqual(3);
    a!.setFallback(undefined);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const before = a!.requests.length;
    const recovered = await runScenario({ rig: target, name: 'f13b', requests: MIXED });
    expect(recovered.verdict.violations).toEqual([]);
    expect(a!.requests.length).toBeGreaterThan(before);
  });
});

describe('compressed upstream answers (API10)', () => {
  const sse = (items: object[]) => items.map((item) => `data: ${JSON.stringify(item)}\n\n`).join('') + 'data: [DONE]\n\n';
  const gzipped = (body: string, contentType: string, status = 200): Step => ({ kind: 'text', status, body: gzipSync(body), headers: { 'content-type': contentType, 'content-encoding': 'gzip' } });

  it('asks upstreams for an unencoded body; one that gzips anyway is decoded: stream complete, usage recorded', async () => {
    const target = await rig(1);
    const [a] = target.upstreams;
    const streamed = [chunk('Hel'), chunk('lo'), chunk(undefined, { finish: 'stop' }), usageChunk(4, 2)];
    a!.enqueue(gzipped(sse(streamed), 'text/event-stream'), gzipped(JSON.stringify(chatCompletion('plain')), 'application/json'));
    const stream = await postChat(target.app, { stream: true }, { requestId: 'gzip-stream' });
    expect(stream.headers.get('content-encoding')).toBeNull();
    // Every event, [DONE] and no in-band error: the usage chunk we asked for is stripped again.
    expect((await readSse(stream)).text).toBe(sse(streamed.slice(0, 3)));
    const plain = await postChat(target.app, {}, { requestId: 'gzip-plain' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(((await plain.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('plain');
    expect(a!.requests.map((request) => request.headers['accept-encoding'])).toEqual(['identity', 'identity']);
    expect(await waitForRecord(target.app, 'gzip-stream')).toMatchObject({ status: 200, outcome: 'ok', prompt_tokens: 4, completion_tokens: 2, response: 'Hello' });
    expect(await waitForRecord(target.app, 'gzip-plain')).toMatchObject({ status: 200, outcome: 'ok', completion_tokens: 12, response: 'plain' });
  });

  it('an empty answer labelled gzip (a 204, or Content-Length 0) passes as it is, not as a decoding error', async () => {
    const target = await rig(1);
    const [a] = target.upstreams;
    const empty = (status: number): Step => ({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(status, { 'content-encoding': 'gzip', ...(status === 204 ? {} : { 'content-length': '0' }) });
        response.end();
      },
    });
    a!.enqueue(empty(204), empty(200));
    const noContent = await postChat(target.app, {}, { requestId: 'gzip-204' });
    expect(noContent.status).toBe(204);
    expect(await noContent.text()).toBe('');
    const zeroLength = await postChat(target.app, {}, { requestId: 'gzip-empty' });
    expect(zeroLength.status).toBe(200);
    expect(await zeroLength.text()).toBe('');
    expect(await waitForRecord(target.app, 'gzip-204')).toMatchObject({ status: 204, outcome: 'ok' });
    expect(await waitForRecord(target.app, 'gzip-empty')).toMatchObject({ status: 200, outcome: 'ok' });
  });

  it('a gzipped error body that reflects our upstream key reaches the client with the key masked', async () => {
    // A key long enough to be masked (sk-up-a is a placeholder the masking leaves alone).
    const target = await startRig(1, { names: ['canary-0123456789'], overrides: FAST });
    rigs.push(target);
    const [a] = target.upstreams;
    a!.enqueue({
      kind: 'handler',
      handle: (request, response) => {
        response.writeHead(401, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        response.end(gzipSync(JSON.stringify({ error: { message: `bad key ${String(request.headers.authorization)}`, type: 'invalid_request_error' } })));
      },
    });
    const response = await postChat(target.app, {}, { requestId: 'gzip-401' });
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(text).toContain('bad key');
    expect(text).not.toContain('sk-up-canary-0123456789');
  });
});
