import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postChat, waitForRecord } from '../support/records.js';
import { chunk, startScriptedUpstream, usageChunk, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { readSse } from '../support/sse-client.js';
import { startApp, type TestApp } from '../support/start-app.js';

const events = (count: number) => [chunk('', { role: true }), ...Array.from({ length: count }, (_, index) => chunk(`w${index} `)), chunk(undefined, { finish: 'stop' })];

/** A scripted upstream behind a gateway with these timeouts (and fast record flushes). */
async function startGateway(timeouts: Record<string, number>): Promise<{ upstream: ScriptedUpstream; app: TestApp }> {
  const upstream = await startScriptedUpstream();
  const overrides = { 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-up' }], 'gateway.records.flushIntervalMs': 20, ...timeouts };
  return { upstream, app: await startApp({ overrides }) };
}

describe('streams after the first byte (RELIABILITY F6–F8, F10, F12)', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  beforeAll(async () => {
    ({ upstream, app } = await startGateway({ 'gateway.timeouts.idleMs': 300, 'gateway.timeouts.totalMs': 1_500, 'gateway.timeouts.streamTotalMs': 1_500 }));
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  async function streamFrom(requestId: string) {
    const response = await postChat(app, { stream: true }, { requestId });
    expect(response.status).toBe(200);
    const { events: received, text } = await readSse(response);
    const errors = received.filter((event) => event.data.includes('"error"'));
    return { received, text, errors, done: received.some((event) => event.data === '[DONE]') };
  }

  it('F6: a stall mid-stream ends with one in-band error event and no [DONE]; nothing is retried', async () => {
    upstream.enqueue({ kind: 'sse', events: events(8), stallAfter: 5 });
    const before = upstream.requests.length;
    const result = await streamFrom('f6');
    expect(result.done).toBe(false);
    expect(result.errors).toHaveLength(1);
    expect(JSON.parse(result.errors[0]!.data).error.code).toBe('upstream_idle_timeout');
    expect(result.received.length).toBe(6);
    expect(upstream.requests.length - before).toBe(1);
    expect(await waitForRecord(app, 'f6')).toMatchObject({ outcome: 'upstream_idle_timeout', status: 504 });
  });

  it('F10: a stream that keeps trickling within the idle timeout is still cut at its total cap, with an error event', async () => {
    // 40 events 100 ms apart: never idle for 300 ms, but 4 s in all against a cap of 1.5 s.
    upstream.enqueue({ kind: 'sse', events: events(40), intervalMs: 100 });
    const result = await streamFrom('f10');
    expect(result.done).toBe(false);
    expect(result.errors).toHaveLength(1);
    expect(JSON.parse(result.errors[0]!.data).error.code).toBe('upstream_timeout');
    // Events came through until the cut, not all 42 (role, 40 words, finish).
    expect(result.received.length).toBeGreaterThan(1);
    expect(result.received.length).toBeLessThan(42);
    const seen = upstream.requests.at(-1)!;
    await expect.poll(() => seen.abortedAt, { timeout: 2_000 }).toBeDefined();
    const row = await waitForRecord(app, 'f10');
    expect(row).toMatchObject({ outcome: 'upstream_timeout', status: 504, usage_estimated: 1 });
    // The tokens produced until the cut are recorded (counted by the gateway: no usage block came).
    expect(row.completion_tokens).toBe(result.received.length - 2);
  });

  it('F7: a reset mid-stream ends with an error event, no [DONE]', async () => {
    upstream.enqueue({ kind: 'sse', events: events(8), resetAfter: 4 });
    const result = await streamFrom('f7');
    expect(result.done).toBe(false);
    expect(result.errors).toHaveLength(1);
    expect(await waitForRecord(app, 'f7')).toMatchObject({ outcome: 'upstream_reset' });
  });

  it('F7: events the upstream sent right before its socket died (same packet as the close) all reach the client', async () => {
    // Headers, three events and the close leave in one tick, so they reach the gateway together,
    // often in one read, before anyone reads the body.
    const sent = events(1);
    upstream.enqueue({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const event of sent) response.write(`data: ${JSON.stringify(event)}\n\n`);
        // node:http corks the socket until the next tick; push the bytes out, then close at once.
        response.socket?.uncork();
        response.socket?.destroy();
      },
    });
    const result = await streamFrom('f7-last-events');
    expect(result.received.slice(0, sent.length).map((event) => JSON.parse(event.data) as unknown)).toEqual(sent);
    expect(result.received).toHaveLength(sent.length + 1);
    expect(JSON.parse(result.errors[0]!.data).error.code).toBe('upstream_reset');
    expect(await waitForRecord(app, 'f7-last-events')).toMatchObject({ outcome: 'upstream_reset' });
  });

  it('F8: a clean close without [DONE] is not a complete answer', async () => {
    upstream.enqueue({ kind: 'sse', events: events(8), closeAfter: 5 });
    const result = await streamFrom('f8');
    expect(result.done).toBe(false);
    expect(JSON.parse(result.errors[0]!.data).error.code).toBe('upstream_incomplete');
    expect(await waitForRecord(app, 'f8')).toMatchObject({ outcome: 'upstream_incomplete' });
  });

  it('F12: a client that leaves mid-stream cancels the upstream call and the record says client_closed', async () => {
    upstream.enqueue({ kind: 'sse', events: events(50), intervalMs: 20 });
    const controller = new AbortController();
    const response = await postChat(app, { stream: true }, { requestId: 'f12', signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    const seen = upstream.requests.at(-1)!;
    await expect.poll(() => seen.abortedAt, { timeout: 2_000 }).toBeDefined();
    expect(seen.eventsSent).toBeLessThan(50);
    expect(await waitForRecord(app, 'f12')).toMatchObject({ outcome: 'client_closed', status: 499 });
  });

  it('F12: a client that leaves while waiting for a non-stream answer cancels it too', async () => {
    upstream.enqueue({ kind: 'json', body: { late: true }, delayMs: 1_000 });
    const before = upstream.requests.length;
    const controller = new AbortController();
    const pending = postChat(app, {}, { requestId: 'f12b', signal: controller.signal }).catch(() => undefined);
    await expect.poll(() => upstream.requests.length).toBe(before + 1);
    controller.abort();
    await pending;
    await expect.poll(() => upstream.requests.at(-1)!.abortedAt, { timeout: 2_000 }).toBeDefined();
    expect(await waitForRecord(app, 'f12b')).toMatchObject({ outcome: 'client_closed' });
  });

  it('passes bytes through exactly, including a multi-byte character split across writes', async () => {
    const euro = Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"€ ✓ 你好"},"finish_reason":null}]}\n\n');
    const cut = euro.indexOf(0xe2) + 1;
    const raw = [euro.subarray(0, cut), euro.subarray(cut), Buffer.from('data: [DONE]\n\n')];
    upstream.enqueue({ kind: 'sse', events: [], raw, done: false });
    const response = await postChat(app, { stream: true, stream_options: { include_usage: true } }, { requestId: 'utf8' });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(Buffer.concat(raw))).toBe(true);
    expect(await waitForRecord(app, 'utf8')).toMatchObject({ response: '€ ✓ 你好', outcome: 'ok' });
  });

  it('keeps the usage chunk when the client asked for it', async () => {
    upstream.enqueue({ kind: 'sse', events: [...events(2), usageChunk(3, 4)] });
    const response = await postChat(app, { stream: true, stream_options: { include_usage: true } }, { requestId: 'usage-kept' });
    const { events: received } = await readSse(response);
    expect(received.some((event) => event.data.includes('"usage"'))).toBe(true);
    expect(await waitForRecord(app, 'usage-kept')).toMatchObject({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  });

  it('strips only the usage-only chunk when every chunk carries "usage": null (OpenAI with include_usage)', async () => {
    const content = [...events(2)].map((event) => ({ ...event, usage: null }));
    upstream.enqueue({ kind: 'sse', events: [...content, usageChunk(6, 3)] });
    const response = await postChat(app, { stream: true }, { requestId: 'usage-null' });
    const { events: received } = await readSse(response);
    // Every content chunk reaches the client as the upstream sent it; only the chunk we asked for is gone.
    expect(received.map((event) => event.data)).toEqual([...content.map((event) => JSON.stringify(event)), '[DONE]']);
    expect(await waitForRecord(app, 'usage-null')).toMatchObject({ prompt_tokens: 6, completion_tokens: 3, total_tokens: 9, response: 'w0 w1 ', usage_estimated: 0 });
  });

  it("sends a stream's status and headers before its first event when the upstream has none yet", async () => {
    let sendFirst!: () => void;
    const firstMayGo = new Promise<void>((resolve) => (sendFirst = resolve));
    upstream.enqueue({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.flushHeaders();
        void firstMayGo.then(() => response.end(`data: ${JSON.stringify(chunk('late'))}\n\ndata: [DONE]\n\n`));
      },
    });
    // fetch resolves on the head alone: the upstream sends nothing more until we say so.
    const response = await postChat(app, { stream: true }, { requestId: 'head-first' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    sendFirst();
    const { events: received } = await readSse(response);
    expect(received.map((event) => event.data)).toEqual([JSON.stringify(chunk('late')), '[DONE]']);
  });

  it('bounds a non-stream exchange by the total deadline', async () => {
    upstream.enqueue({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"partial":');
        const timer = setInterval(() => response.write(' '), 100);
        response.on('close', () => clearInterval(timer));
      },
    });
    // The half-sent body was held back (RELIABILITY R1), so the client gets a whole 504, not a cut body.
    const response = await postChat(app, {}, { requestId: 'total' });
    expect(response.status).toBe(504);
    expect(((await response.json()) as any).error.code).toBe('upstream_timeout');
    expect(await waitForRecord(app, 'total')).toMatchObject({ outcome: 'upstream_timeout', status: 504 });
  });

  it('a non-stream body that stalls past the idle timeout is a 504 to the client and 504 in its record', async () => {
    upstream.enqueue({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"partial":');
      },
    });
    const response = await postChat(app, {}, { requestId: 'idle-plain' });
    expect(response.status).toBe(504);
    expect(((await response.json()) as any).error.code).toBe('upstream_timeout');
    expect(await waitForRecord(app, 'idle-plain')).toMatchObject({ outcome: 'upstream_idle_timeout', status: 504 });
  });
});

describe('gateway.timeouts.totalMs and streamTotalMs at 0', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  beforeAll(async () => {
    ({ upstream, app } = await startGateway({ 'gateway.timeouts.totalMs': 0, 'gateway.timeouts.streamTotalMs': 0 }));
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('mean no limit, as 0 does for the first-byte and idle timeouts, not an immediate 504', async () => {
    upstream.enqueue({ kind: 'json', body: { answer: 'late' }, delayMs: 100 });
    const plain = await postChat(app, {});
    expect(plain.status).toBe(200);
    expect(await plain.json()).toEqual({ answer: 'late' });

    upstream.enqueue({ kind: 'sse', events: events(5), intervalMs: 30 });
    const streamed = await postChat(app, { stream: true });
    const { events: received } = await readSse(streamed);
    expect(received.map((event) => event.data).at(-1)).toBe('[DONE]');
    expect(received.filter((event) => event.data.includes('"error"'))).toEqual([]);
  });
});
