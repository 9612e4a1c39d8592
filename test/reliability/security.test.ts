import { createHash, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { chat as chatBody, runScenario, startRig, type Rig } from './harness.js';
import { checkLedger, collectRows, printLedger } from '../support/ledger.js';
import { ledgerRequest } from '../support/ledger-client.js';
import { chunk, startScriptedUpstream, type ScriptedUpstream, type Step } from '../support/scripted-upstream.js';

/** RELIABILITY S3 (secret canaries) and S4 (SSRF: body overrides, redirects, key isolation). */
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function scripted(name: string): Promise<ScriptedUpstream> {
  const server = await startScriptedUpstream({ name });
  cleanup.push(() => server.close());
  return server;
}

/** An upstream error that reflects the credentials it was sent (LiteLLM #24902's shape). */
const echoKey = (status: number): Step => ({
  kind: 'handler',
  handle: (request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', 'x-echo': String(request.headers.authorization) });
    response.end(JSON.stringify({ error: { message: `bad key ${String(request.headers.authorization)} for ${request.url}`, type: 'invalid_request_error', code: null } }));
  },
});

const authorizations = (server: ScriptedUpstream) => new Set(server.requests.map((request) => request.headers.authorization));

describe('SSRF (S4)', () => {
  it('body overrides never reach another host; each upstream only ever sees its own key, also across failover', async () => {
    const evil = await scripted('evil');
    const [a, b] = [await scripted('a'), await scripted('b')];
    const rig: Rig = await startRig(0, {
      overrides: {
        'gateway.upstreams': [
          { endpoint: `${a.url}/v1`, sk: 'sk-key-of-a-0001', models: ['gpt-test', 'model-a'] },
          { endpoint: `${b.url}/v1`, sk: 'sk-key-of-b-0002', models: ['gpt-test', 'model-b'] },
        ],
      },
    });
    cleanup.push(() => rig.close());
    a.enqueue({ kind: 'json', status: 503, body: { error: { message: 'busy' } } });
    const overrides = { api_base: evil.url, base_url: `${evil.url}/v1`, endpoint: evil.url, extra_headers: { Authorization: 'Bearer stolen' }, headers: { host: new URL(evil.url).host } };
    const requests = [
      { body: { ...chatBody(false), ...overrides } },
      { body: { ...chatBody(true), ...overrides } },
      { body: { ...chatBody(false), model: 'model-a' }, headers: { 'x-api-key': 'client-key', 'api-key': 'client-key' } },
      { body: { ...chatBody(true), model: 'model-b' } },
    ];
    const { verdict } = await runScenario({ rig: { ...rig, upstreams: [a, b] }, name: 'ssrf', requests, forbidden: ['evil'], extraUpstreams: [evil] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(4);
    expect(evil.requests).toHaveLength(0);
    expect([...authorizations(a)]).toEqual(['Bearer sk-key-of-a-0001']);
    expect([...authorizations(b)]).toEqual(['Bearer sk-key-of-b-0002']);
    expect([...a.requests, ...b.requests].some((request) => request.headers['x-api-key'] !== undefined || request.headers['api-key'] !== undefined)).toBe(false);
  });

  it('an upstream that redirects elsewhere is not followed: the other host receives nothing', async () => {
    const evil = await scripted('evil');
    const rig = await startRig(1);
    cleanup.push(() => rig.close());
    rig.upstreams[0]!.setFallback({ kind: 'redirect', location: `${evil.url}/v1/chat/completions`, status: 307 });
    for (const stream of [false, true]) await ledgerRequest({ url: rig.app.url, id: `redirect-${String(stream)}`, body: chatBody(stream) });
    expect(evil.requests).toHaveLength(0);
  });
});

describe('secret canaries (S3)', () => {
  it('no configured secret, nor its SHA-256, appears in any log line, response or request-log row', async () => {
    const canary = (kind: string) => `sk-canary-${kind}-${randomUUID()}`;
    const secrets = { upstream: canary('upstream'), dbUpstream: canary('db'), gateway: canary('gateway'), jwt: canary('jwt'), hmac: canary('hmac'), browserApi: canary('browser') };
    const a = await scripted('a');
    const db = await scripted('db');
    const rig = await startRig(0, {
      overrides: {
        'log.level': 'debug',
        'gateway.authorization': [secrets.gateway],
        'gateway.upstreams': [{ endpoint: `${a.url}/v1`, sk: secrets.upstream, models: ['gpt-test'] }],
        'chat.jwtSecret': secrets.jwt,
        'browser.secretKey': secrets.hmac,
        'browser.chatApiKey': secrets.browserApi,
      },
    });
    cleanup.push(() => rig.close());
    const auth = { authorization: `Bearer ${secrets.gateway}` };
    const seen: string[] = [];
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${rig.app.url}${path}`, { ...init, headers: { ...auth, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
      seen.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
    };

    // Upstream errors that echo our key, mid-stream failures, plain successes, both surfaces.
    a.enqueue(echoKey(401), echoKey(500), { kind: 'sse', events: [chunk('x'), chunk('y'), chunk(undefined, { finish: 'stop' })], resetAfter: 1 });
    const client = [];
    for (const [index, stream] of [false, false, true, true, false].entries()) {
      client.push(await ledgerRequest({ url: rig.app.url, id: `canary-${index}`, body: chatBody(stream), headers: auth }));
    }
    await call('/admin/upstreams', { method: 'POST', body: JSON.stringify({ sk: secrets.dbUpstream, endpoint: `${db.url}/v1`, models: ['db-model'] }) });
    db.enqueue(echoKey(403));
    client.push(await ledgerRequest({ url: rig.app.url, id: 'canary-db-0', body: { ...chatBody(false), model: 'db-model' }, headers: auth }));
    client.push(await ledgerRequest({ url: rig.app.url, id: 'canary-db-1', body: { ...chatBody(true), model: 'db-model' }, headers: auth }));
    await call('/admin/upstreams');
    await call('/admin/request_records');
    await call('/v1/models');
    await call(`/token?id=canary-user&hour=1&key=${encodeURIComponent(secrets.hmac)}`);
    await call(`/token?id=canary-user&hour=1&key=${encodeURIComponent(`${secrets.hmac}x`)}`);
    await call('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${secrets.gateway}x` }, body: '{}' });

    const rows = await collectRows(rig.app.app.store.db, { prefix: 'canary-', served: [...a.requests, ...db.requests].map((request) => request.requestId!).filter(Boolean) });
    const verdict = printLedger('scenario canary', checkLedger({ client, upstream: [...a.requests, ...db.requests], rows }));
    expect(verdict.violations).toEqual([]);

    // The key's own storage (openai_upstreams.sk) is the one place it must be: that is how it is used.
    const tables = ['records', 'openai_upstreams', 'gateway_keys', 'config_kvs', 'gateway_instances'] as const;
    const dump: string[] = [];
    for (const table of tables) {
      const all = await rig.app.app.store.db.selectFrom(table).selectAll().execute();
      dump.push(...all.map((row) => JSON.stringify(table === 'openai_upstreams' ? { ...row, sk: '<stored key>' } : row)));
    }
    const outputs = { logs: rig.app.logs.join('\n'), responses: [...seen, ...client.map((entry) => JSON.stringify(entry))].join('\n'), database: dump.join('\n') };
    const hits: string[] = [];
    for (const [name, secret] of Object.entries(secrets)) {
      for (const needle of [secret, createHash('sha256').update(secret).digest('hex')]) {
        for (const [where, text] of Object.entries(outputs)) if (text.includes(needle)) hits.push(`${name} in ${where}`);
      }
    }
    expect(hits).toEqual([]);
    expect(rig.app.logs.length).toBeGreaterThan(10);
    // The upstream did receive its own key (the one allowed place), and the echo was masked for the client.
    expect(a.requests[0]!.headers.authorization).toBe(`Bearer ${secrets.upstream}`);
    expect(client[0]!.body).toContain('bad key Bearer sk-can…');
  });
});
