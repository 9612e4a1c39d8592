import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { postChat, waitForRecord } from '../support/records.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { AUTH, startApp, type TestApp } from '../support/start-app.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function upstream(): Promise<ScriptedUpstream> {
  const started = await startScriptedUpstream();
  cleanup.push(() => started.close());
  return started;
}

async function app(overrides: Record<string, unknown>): Promise<TestApp> {
  const started = await startApp({ overrides: { 'gateway.records.flushIntervalMs': 20, ...overrides } });
  cleanup.push(() => started.close());
  return started;
}

describe('where requests go', () => {
  it("honours an endpoint's own path prefix (zhipu's /api/paas/v4) and keeps the query string", async () => {
    const up = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${up.url}/api/paas/v4`, sk: 'sk-z' }] });
    const response = await fetch(`${gateway.url}/v1/embeddings?trace=1`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'embedding-3', input: ['a'] }),
    });
    expect(response.status).toBe(200);
    expect(up.requests[0]!.url).toBe('/api/paas/v4/embeddings?trace=1');
  });

  it('keeps the client path on a bare-origin endpoint (seed 001)', async () => {
    const up = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: up.url, sk: 'sk-z' }] });
    await postChat(gateway, {});
    expect(up.requests[0]!.url).toBe('/v1/chat/completions');
  });

  it("maps seed 002's zhipu-embedding-3 to zhipu's embedding-3 through the zhipu profile", async () => {
    const up = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${up.url}/api/paas/v4`, sk: 'sk-z', profile: 'zhipu' }] });
    await fetch(`${gateway.url}/v1/embeddings`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'zhipu-embedding-3', input: 'x' }),
    });
    expect(up.requests[0]!.json.model).toBe('embedding-3');
  });

  it('sends each model only to upstreams that serve it, and rewrites aliases', async () => {
    const small = await upstream();
    const large = await upstream();
    const gateway = await app({
      'gateway.upstreams': [
        { endpoint: `${small.url}/v1`, sk: 'a', models: ['small-model'] },
        { endpoint: `${large.url}/v1`, sk: 'b', models: ['large-model'] },
      ],
      'gateway.modelAliases': { fast: 'small-model' },
    });
    expect((await postChat(gateway, { model: 'large-model' })).status).toBe(200);
    expect((await postChat(gateway, { model: 'fast' }, { requestId: 'alias' })).status).toBe(200);
    expect(large.requests.map((request) => request.json.model)).toEqual(['large-model']);
    expect(small.requests.map((request) => request.json.model)).toEqual(['small-model']);
    expect(await waitForRecord(gateway, 'alias')).toMatchObject({ model: 'small-model' });
    const unknown = await postChat(gateway, { model: 'nobody-serves-this' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('lists declared models, aliases and the models of open upstreams on /v1/models and /api/v1/models', async () => {
    const open = await upstream();
    const closed = await upstream();
    const gateway = await app({
      'gateway.upstreams': [
        { endpoint: `${open.url}/v1`, sk: 'a' },
        { endpoint: `${closed.url}/v1`, sk: 'b', models: ['m-1', 'm-2'] },
      ],
      'gateway.modelAliases': { fast: 'm-1' },
    });
    for (const path of ['/v1/models', '/api/v1/models']) {
      const body = (await (await fetch(`${gateway.url}${path}`, { headers: AUTH })).json()) as any;
      expect(body.object).toBe('list');
      // local-glove-100d is the in-process embedding model the RAG capability serves offline.
      expect(body.data.map((model: any) => model.id)).toEqual(['fast', 'gpt-test', 'local-glove-100d', 'm-1', 'm-2']);
    }
    expect(open.requests[0]!.headers.authorization).toBe('Bearer a');
  });

  it('answers GET /v1/models/{model} from the same list: declared, aliased, open-upstream and slashed ids; 404 otherwise', async () => {
    const open = await upstream();
    const closed = await upstream();
    const gateway = await app({
      'gateway.upstreams': [
        { endpoint: `${open.url}/v1`, sk: 'a' },
        { endpoint: `${closed.url}/v1`, sk: 'b', models: ['m-1', 'org/m-2'] },
      ],
      'gateway.modelAliases': { fast: 'm-1' },
    });
    for (const [path, id] of [['/v1/models/m-1', 'm-1'], ['/api/v1/models/fast', 'fast'], ['/v1/models/gpt-test', 'gpt-test'], ['/v1/models/org/m-2', 'org/m-2'], ['/v1/models/org%2Fm-2', 'org/m-2']]) {
      const response = await fetch(`${gateway.url}${path!}`, { headers: AUTH });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id, object: 'model', created: 0, owned_by: 'switchboard' });
    }
    const missing = await fetch(`${gateway.url}/v1/models/nope`, { headers: AUTH });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error).toMatchObject({ code: 'model_not_found', type: 'invalid_request_error', param: 'model' });
    expect((await fetch(`${gateway.url}/v1/models/m-1`)).status).toBe(403);
    // Only the open upstream's model list was asked for; no model lookup reached an upstream.
    expect([...open.requests, ...closed.requests].map((request) => request.url)).toEqual(['/v1/models']);
  });

  it('refuses a request without a model with 404 and says why when every upstream declares its models', async () => {
    const closed = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${closed.url}/v1`, sk: 'a', models: ['m-1'] }] });
    const response = await fetch(`${gateway.url}/v1/files?purpose=batch`, { headers: { ...AUTH, 'x-request-id': 'no-model-files' } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as any).error).toMatchObject({ code: 'not_found', type: 'invalid_request_error', message: expect.stringContaining('every upstream is limited to its declared models') });
    expect(await waitForRecord(gateway, 'no-model-files')).toMatchObject({ status: 404, outcome: 'no_target', model: null });
    // With an upstream that declares none, the same request is forwarded to it.
    const open = await upstream();
    const both = await app({ 'gateway.upstreams': [{ endpoint: `${closed.url}/v1`, sk: 'a', models: ['m-1'] }, { endpoint: `${open.url}/v1`, sk: 'b' }] });
    expect((await fetch(`${both.url}/v1/files?purpose=batch`, { headers: AUTH })).status).toBe(200);
    expect(open.requests.map((request) => request.url)).toEqual(['/v1/files?purpose=batch']);
    expect(closed.requests).toEqual([]);
  });

  it('forwards multipart uploads untouched and routes them by their model field', async () => {
    const up = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${up.url}/v1`, sk: 'a', models: ['whisper-1'] }] });
    const form = new FormData();
    form.set('model', 'whisper-1');
    form.set('file', new Blob([Buffer.from('RIFF....WAVEfmt ')], { type: 'audio/wav' }), 'a.wav');
    const response = await fetch(`${gateway.url}/v1/audio/transcriptions`, { method: 'POST', headers: AUTH, body: form });
    expect(response.status).toBe(200);
    const seen = up.requests[0]!;
    expect(seen.url).toBe('/v1/audio/transcriptions');
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.body.toString('latin1')).toContain('RIFF....WAVEfmt ');
  });

  it('forwards GETs and other methods under /v1', async () => {
    const up = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${up.url}/v1`, sk: 'a' }] });
    up.enqueue({ kind: 'json', body: { object: 'list', data: [] } });
    const response = await fetch(`${gateway.url}/v1/files?purpose=batch`, { headers: AUTH });
    expect(response.status).toBe(200);
    expect(up.requests[0]).toMatchObject({ method: 'GET', url: '/v1/files?purpose=batch' });
  });
});

describe('what reaches the upstream', () => {
  it("replaces the client's key, drops hop-by-hop and credential headers, keeps the rest", async () => {
    const up = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${up.url}/v1`, sk: 'sk-upstream' }] });
    // node:http, because fetch refuses to send a Connection header naming other headers.
    const body = JSON.stringify({ model: 'gpt-test', messages: [] });
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', cookie: 'session=1', 'x-custom': 'kept', connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'openai-organization': 'org-1' },
      });
      request.on('response', (response) => response.resume().on('end', resolve));
      request.on('error', reject);
      request.end(body);
    });
    const headers = up.requests[0]!.headers;
    expect(headers.authorization).toBe('Bearer sk-upstream');
    expect(headers.cookie).toBeUndefined();
    expect(headers['x-drop-me']).toBeUndefined();
    expect(headers['x-custom']).toBe('kept');
    expect(headers['openai-organization']).toBe('org-1');
  });

  it('does not follow redirects: the second host receives nothing (RELIABILITY S4)', async () => {
    const redirector = await upstream();
    const elsewhere = await upstream();
    redirector.setFallback({ kind: 'json', status: 302, body: {}, headers: { location: `${elsewhere.url}/v1/chat/completions` } });
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${redirector.url}/v1`, sk: 'sk-secret' }] });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', redirect: 'manual', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"model":"gpt-test"}' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${elsewhere.url}/v1/chat/completions`);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('ignores routing fields in the body (api_base, base_url): they never redirect the call', async () => {
    const real = await upstream();
    const evil = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${real.url}/v1`, sk: 'sk-secret' }] });
    const response = await postChat(gateway, { api_base: evil.url, base_url: evil.url, endpoint: evil.url });
    expect(response.status).toBe(200);
    expect(evil.requests).toHaveLength(0);
    expect(real.requests).toHaveLength(1);
  });
});

describe('bad input on /v1 gets OpenAI-shaped errors', () => {
  it.each([
    ['invalid JSON', '{', 400, 'invalid_json', null],
    ['a top-level array', '[]', 400, 'invalid_json', null],
    ['model that is not a string', '{"model":123}', 400, 'invalid_json', 'model'],
    ['stream that is not a boolean', '{"model":"a","stream":"yes"}', 400, 'invalid_json', 'stream'],
    ['a model name with CRLF', '{"model":"a\\r\\nb"}', 400, 'bad_request', 'model'],
    ['a model name with spaces', '{"model":"a b"}', 400, 'bad_request', 'model'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), 400, 'invalid_json', null],
  ])('%s', async (_name, body, status, code, param) => {
    const up = await upstream();
    const gateway = await app({ 'gateway.upstreams': [{ endpoint: `${up.url}/v1`, sk: 'a' }] });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body });
    expect(response.status).toBe(status);
    const json = (await response.json()) as any;
    // `param` names the offending field, as OpenAI's errors do.
    expect(json.error).toMatchObject({ type: 'invalid_request_error', code, param });
    expect(typeof json.error.message).toBe('string');
    expect(up.requests).toHaveLength(0);
  });

  it('answers a body over the /v1 limit with 413', async () => {
    const gateway = await app({ 'server.proxyBodyLimitBytes': 1024 });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'a', pad: 'x'.repeat(4096) }) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as any).error.code).toBe('payload_too_large');
  });

  it('answers with 503 and no upstream configured', async () => {
    const gateway = await app({});
    const response = await fetch(`${gateway.url}/v1/files`, { headers: AUTH });
    expect(response.status).toBe(503);
    expect(((await response.json()) as any).error.code).toBe('upstream_unavailable');
  });
});
