import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, postChat, waitForRecord } from '../support/records.js';
import { chatCompletion, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startApp, type TestApp } from '../support/start-app.js';

/** Small deadlines so timeouts are exercised in well under a second. */
const FAST = {
  'gateway.timeouts.connectMs': 300,
  'gateway.timeouts.firstByteMs': 400,
  'gateway.timeouts.idleMs': 400,
  'gateway.records.flushIntervalMs': 20,
};

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function upstreams(count: number): Promise<ScriptedUpstream[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startScriptedUpstream()));
  cleanup.push(...started.map((upstream) => () => upstream.close()));
  return started;
}

async function appOver(endpoints: string[], overrides: Record<string, unknown> = {}): Promise<TestApp> {
  const app = await startApp({
    overrides: { ...FAST, 'gateway.upstreams': endpoints.map((endpoint, index) => ({ endpoint, sk: `sk-up-${index}` })), ...overrides },
  });
  cleanup.push(() => app.close());
  return app;
}

describe('failover before the first byte (RELIABILITY F1–F5)', () => {
  it('F1: a 503 from the first upstream is retried on the next; the client sees one 200 and one record', async () => {
    const [a, b] = await upstreams(2);
    a!.enqueue({ kind: 'json', status: 503, body: { error: { message: 'overloaded' } } });
    const app = await appOver([`${a!.url}/v1`, `${b!.url}/v1`]);
    const response = await postChat(app, {}, { requestId: 'f1' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).choices[0].message.content).toBe('echo: hello');
    expect(a!.requests).toHaveLength(1);
    expect(b!.requests).toHaveLength(1);
    const row = await waitForRecord(app, 'f1');
    expect(row).toMatchObject({ status: 200, outcome: 'ok', attempts: 2, target_id: 'upstream:config-2' });
  });

  it('F2: a 429 with Retry-After cools the upstream down; the next request goes elsewhere', async () => {
    const [a, b] = await upstreams(2);
    a!.enqueue({ kind: 'json', status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': '30' } });
    const app = await appOver([`${a!.url}/v1`, `${b!.url}/v1`], { 'gateway.policy': 'round_robin' });
    for (let index = 0; index < 4; index++) expect((await postChat(app, {})).status).toBe(200);
    expect(a!.requests).toHaveLength(1);
    expect(b!.requests).toHaveLength(4);
  });

  it('F3: a 400/401 is the final answer: not retried, status and body passed through verbatim', async () => {
    const [a, b] = await upstreams(2);
    const upstreamError = { error: { message: 'Invalid model', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } };
    a!.enqueue({ kind: 'json', status: 400, body: upstreamError });
    const app = await appOver([`${a!.url}/v1`, `${b!.url}/v1`]);
    const response = await postChat(app, {}, { requestId: 'f3' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(upstreamError);
    expect(b!.requests).toHaveLength(0);
    expect(await waitForRecord(app, 'f3')).toMatchObject({ status: 400, attempts: 1, outcome: 'upstream_error_response' });
  });

  it('F4: connection refused moves on to the next upstream', async () => {
    const [b] = await upstreams(1);
    const app = await appOver([`http://127.0.0.1:${await closedPort()}/v1`, `${b!.url}/v1`]);
    const response = await postChat(app, {}, { requestId: 'f4' });
    expect(response.status).toBe(200);
    expect(await waitForRecord(app, 'f4')).toMatchObject({ attempts: 2, target_id: 'upstream:config-2' });
  });

  it('F5: an upstream that never sends headers hits the first-byte timeout, then fails over', async () => {
    const [a, b] = await upstreams(2);
    a!.enqueue({ kind: 'silent' });
    const app = await appOver([`${a!.url}/v1`, `${b!.url}/v1`]);
    const response = await postChat(app, {}, { requestId: 'f5' });
    expect(response.status).toBe(200);
    expect(await waitForRecord(app, 'f5')).toMatchObject({ attempts: 2, outcome: 'ok' });
    await expect.poll(() => a!.requests[0]?.abortedAt).toBeDefined();
  });

  it('attempts are bounded: three failing upstreams out of four, at most three tries', async () => {
    const all = await upstreams(4);
    for (const upstream of all) upstream.setFallback({ kind: 'json', status: 502, body: { error: { message: 'bad gateway' } } });
    const app = await appOver(all.map((upstream) => `${upstream.url}/v1`));
    const response = await postChat(app, {}, { requestId: 'bounded' });
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: { message: 'bad gateway' } });
    expect(all.reduce((sum, upstream) => sum + upstream.requests.length, 0)).toBe(3);
    expect(await waitForRecord(app, 'bounded')).toMatchObject({ attempts: 3 });
  });

  it('only transport failures everywhere: an OpenAI-shaped 503, never an empty 502', async () => {
    const app = await appOver([`http://127.0.0.1:${await closedPort()}/v1`]);
    const response = await postChat(app, {});
    expect(response.status).toBe(503);
    const body = (await response.json()) as any;
    expect(body.error).toMatchObject({ type: 'service_unavailable_error', code: 'upstream_unavailable' });
    expect(body.error.message).not.toContain('127.0.0.1');
  });

  it('a first-byte timeout on the only upstream is a 504 in OpenAI shape', async () => {
    const [a] = await upstreams(1);
    a!.setFallback({ kind: 'silent' });
    const app = await appOver([`${a!.url}/v1`]);
    const response = await postChat(app, {});
    expect(response.status).toBe(504);
    expect(((await response.json()) as any).error.code).toBe('upstream_timeout');
  });
});

describe('ejection and re-admission (RELIABILITY F13)', () => {
  it('ejects an upstream after consecutive failures and re-admits it through a probe', async () => {
    const [a, b] = await upstreams(2);
    a!.setFallback({ kind: 'json', status: 500, body: { error: { message: 'down' } } });
    const app = await appOver([`${a!.url}/v1`, `${b!.url}/v1`], { 'gateway.health.failureThreshold': 2, 'gateway.health.baseEjectionMs': 300, 'gateway.policy': 'round_robin' });
    for (let index = 0; index < 6; index++) expect((await postChat(app, {})).status).toBe(200);
    expect(a!.requests.length).toBe(2);
    a!.setFallback(undefined);
    await new Promise((resolve) => setTimeout(resolve, 350));
    for (let index = 0; index < 4; index++) expect((await postChat(app, {})).status).toBe(200);
    expect(a!.requests.length).toBeGreaterThan(2);
  });

  it('never ejects everything: a lone failing upstream is still tried', async () => {
    const [a] = await upstreams(1);
    a!.setFallback({ kind: 'json', status: 500, body: { error: { message: 'down' } } });
    const app = await appOver([`${a!.url}/v1`], { 'gateway.health.failureThreshold': 1, 'gateway.health.baseEjectionMs': 60_000 });
    await postChat(app, {});
    a!.setFallback({ kind: 'json', body: chatCompletion('back') });
    const response = await postChat(app, {});
    expect(response.status).toBe(200);
  });
});
