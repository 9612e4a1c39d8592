import { afterEach, describe, expect, it } from 'vitest';
import { postChat, waitForRecord } from '../support/records.js';
import { chunk } from '../support/scripted-upstream.js';
import { chat, runScenario, startRig, type Rig } from './harness.js';

/** RELIABILITY F11 (slow and stalled readers), F12 (client disconnect), F14 (overload). */
let rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs) await rig.close();
  rigs = [];
});

async function rig(overrides: Record<string, unknown> = {}): Promise<Rig> {
  const started = await startRig(1, { overrides });
  rigs.push(started);
  return started;
}

const events = (count: number, text = 'w') => [chunk('', { role: true }), ...Array.from({ length: count }, (_, index) => chunk(`${text}${index} `)), chunk(undefined, { finish: 'stop' })];

describe('slow and stalled readers (F11, R7)', () => {
  const LIMITS = { 'gateway.maxBufferedBytes': 64 * 1024, 'gateway.timeouts.clientStallMs': 400 };

  it('a slow reader that keeps reading is served completely', async () => {
    const target = await rig(LIMITS);
    target.upstreams[0]!.enqueue({ kind: 'sse', events: events(40, 'x'.repeat(16 * 1024)), respectBackpressure: true });
    const { verdict } = await runScenario({ rig: target, name: 'f11slow', requests: [{ body: chat(true), readDelayMs: 20 }] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(1);
  });

  it('a reader that stops is cut off: the upstream read pauses, then the call is cancelled and recorded client_stalled', async () => {
    const target = await rig(LIMITS);
    const upstream = target.upstreams[0]!;
    // 32 MiB offered; the upstream only gets to send what the gateway reads (back-pressure).
    const total = 512;
    upstream.enqueue({ kind: 'sse', events: events(total, 'y'.repeat(64 * 1024)), respectBackpressure: true });
    const { verdict } = await runScenario({
      rig: target,
      name: 'f11stall',
      requests: [{ body: chat(true), stallAfterEvents: 2, stallUntil: async () => { await waitForRecord(target.app, 'f11stall-0'); } }],
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('client-gone')).toBe(1);
    expect(await waitForRecord(target.app, 'f11stall-0')).toMatchObject({ outcome: 'client_stalled', status: 499 });
    const seen = upstream.requests[0]!;
    await expect.poll(() => seen.abortedAt).toBeDefined();
    expect(seen.eventsSent).toBeLessThan(total);
  });

  it('with clientStallMs at 0 a reader that pauses is never cut for it: it gets the whole stream once it reads again', async () => {
    const target = await rig({ ...LIMITS, 'gateway.timeouts.clientStallMs': 0 });
    // 32 MiB, more than the sockets' own buffers hold: the gateway's 64 KiB queue fills while the reader pauses.
    target.upstreams[0]!.enqueue({ kind: 'sse', events: events(512, 'z'.repeat(64 * 1024)), respectBackpressure: true });
    const response = await postChat(target.app, { stream: true }, { requestId: 'f11off' });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let read = await reader.read(); !read.done; read = await reader.read()) text += decoder.decode(read.value, { stream: true });
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).not.toContain('"error"');
    expect(await waitForRecord(target.app, 'f11off')).toMatchObject({ outcome: 'ok', status: 200 });
  });
});

describe('client disconnect (F12, R4)', () => {
  it('a client leaving mid-stream or while waiting cancels the upstream call; the row says client_closed with tokens so far', async () => {
    const target = await rig();
    const upstream = target.upstreams[0]!;
    upstream.enqueue({ kind: 'sse', events: events(50), intervalMs: 20 }, { kind: 'json', body: { late: true }, delayMs: 1_000 });
    const { verdict } = await runScenario({
      rig: target,
      name: 'f12',
      requests: [{ body: chat(true), abortAfterEvents: 4 }, { body: chat(false), abortAfterMs: 200 }],
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('client-gone')).toBe(2);
    for (const id of ['f12-0', 'f12-1']) expect(await waitForRecord(target.app, id)).toMatchObject({ outcome: 'client_closed', status: 499 });
    await expect.poll(() => upstream.requests.every((request) => request.abortedAt !== undefined)).toBe(true);
    expect(upstream.requests[0]!.eventsSent).toBeLessThan(52);
    const streamRow = await waitForRecord(target.app, 'f12-0');
    expect(streamRow.usage_estimated).toBe(1);
    expect(streamRow.completion_tokens).toBeGreaterThan(0);
  });
});

describe('overload (F14, R7)', () => {
  it('beyond maxInFlight requests are shed at once with 503 + Retry-After; the admitted ones complete', async () => {
    const target = await rig({ 'server.maxInFlight': 8 });
    target.upstreams[0]!.setFallback({ kind: 'sse', events: events(10), intervalMs: 50 });
    const { verdict, client } = await runScenario({ rig: target, name: 'f14', concurrent: true, requests: Array.from({ length: 20 }, () => ({ body: chat(true) })) });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok') + verdict.count('clean-error')).toBe(20);
    expect(verdict.count('ok')).toBeGreaterThanOrEqual(8);
    const shed = client.filter((entry) => entry.status === 503);
    expect(shed.length).toBe(verdict.count('clean-error'));
    expect(shed.every((entry) => entry.headers['retry-after'] === '1' && JSON.parse(entry.body).error.code === 'overloaded')).toBe(true);
  });
});
