import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { readSse } from '../support/sse-client.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { SECRET, getToken, nowSeconds, signToken } from './browser-helpers.js';

const MESSAGES = [{ role: 'user', content: 'hi' }];

function postChat(app: TestApp, options: { authorization?: string; body?: unknown; signal?: AbortSignal }): Promise<Response> {
  return fetch(`${app.url}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.authorization === undefined ? {} : { authorization: options.authorization }) },
    body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body ?? { model: 'gpt-test', stream: true, messages: MESSAGES }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('POST /chat', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp({
      overrides: {
        'browser.secretKey': SECRET,
        'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-key' }],
        'gateway.records.flushIntervalMs': 20,
      },
    });
    token = await getToken(app, 'chat-user');
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('passes an SSE stream through byte for byte, with CORS, for a raw token (seed) and a Bearer token', async () => {
    const events = [chunk('', { role: true }), chunk('Hel'), chunk('lo "world"'), chunk(undefined, { finish: 'stop' })];
    for (const authorization of [token, `Bearer ${token}`]) {
      upstream.enqueue({ kind: 'sse', events });
      const response = await postChat(app, { authorization });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const { text } = await readSse(response);
      expect(text).toBe(events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') + 'data: [DONE]\n\n');
    }
  });

  it('forwards only model, stream and messages[{role, content}], with the upstream key, and records the browser principal', async () => {
    const response = await postChat(app, {
      authorization: token,
      body: { model: 'gpt-test', stream: false, temperature: 0.3, max_tokens: 9, messages: [{ role: 'user', content: 'only this', name: 'dropped' }], user: 'x' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body: any = await response.json();
    expect(body.choices[0].message.content).toBe('echo: only this');
    const seen = upstream.requests.at(-1)!;
    expect(seen.url).toBe('/v1/chat/completions');
    expect(seen.headers.authorization).toBe('Bearer sk-upstream-key');
    expect(seen.headers['userid']).toBe('chat-user');
    expect(seen.json).toEqual({ model: 'gpt-test', stream: false, messages: [{ role: 'user', content: 'only this' }] });
    expect(JSON.stringify(seen.headers)).not.toContain(token);
    const recorded = () => app.app.store.db.selectFrom('records').select(['key_id', 'path', 'outcome']).where('key_id', '=', 'browser:chat-user').execute();
    let rows = await recorded();
    for (let attempt = 0; attempt < 100 && rows.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      rows = await recorded();
    }
    expect(rows[0]).toMatchObject({ path: '/v1/chat/completions', outcome: 'ok' });
  });

  it('forwards the token id as Userid (percent-encoded outside printable ASCII), none for a token without id', async () => {
    const send = async (id: string) => {
      const response = await postChat(app, { authorization: await getToken(app, id), body: { model: 'gpt-test', stream: false, messages: MESSAGES } });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      return upstream.requests.at(-1)!.headers['userid'];
    };
    expect(await send('张三')).toBe(encodeURIComponent('张三'));
    expect(await send('')).toBeUndefined();
  });

  it("passes the upstream's own error status and body through", async () => {
    upstream.enqueue({ kind: 'json', status: 429, body: { error: { message: 'slow down', type: 'rate_limit_error' } } });
    const response = await postChat(app, { authorization: token, body: { model: 'gpt-test', messages: MESSAGES } });
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({ error: { message: 'slow down', type: 'rate_limit_error' } });
  });

  it.each([
    ['invalid JSON', '{"model":', 'invalid_json'],
    ['a JSON array', '[]', 'bad_request'],
    ['no model', { messages: MESSAGES }, 'bad_request'],
    ['messages not an array', { model: 'gpt-test', messages: 'hi' }, 'bad_request'],
    ['content not a string', { model: 'gpt-test', messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }, 'bad_request'],
    ['stream not a boolean', { model: 'gpt-test', stream: 'yes', messages: MESSAGES }, 'bad_request'],
  ])('answers 400 in OpenAI shape for %s (the seed forwarded an empty request)', async (_name, body, code) => {
    const before = upstream.requests.length;
    const response = await postChat(app, { authorization: token, body });
    expect(response.status).toBe(400);
    const json: any = await response.json();
    expect(json.error).toMatchObject({ type: 'invalid_request_error', code });
    expect(upstream.requests.length).toBe(before);
  });

  it('refuses a body over the 1 MiB limit with 413 in OpenAI shape', async () => {
    const before = upstream.requests.length;
    const response = await postChat(app, { authorization: token, body: { model: 'gpt-test', messages: [{ role: 'user', content: 'x'.repeat(1_100_000) }] } });
    expect(response.status).toBe(413);
    const json: any = await response.json();
    expect(json.error.code).toBe('payload_too_large');
    expect(upstream.requests.length).toBe(before);
  });

  it('answers in OpenAI shape when no upstream serves the model', async () => {
    const app2 = await startApp({ overrides: { 'browser.secretKey': SECRET } });
    try {
      const response = await postChat(app2, { authorization: await getToken(app2) });
      expect(response.status).toBeGreaterThanOrEqual(400);
      const json: any = await response.json();
      expect(typeof json.error.message).toBe('string');
    } finally {
      await app2.close();
    }
  });

  it('cancels the upstream call when the browser leaves mid-stream', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b'), chunk('c')], stallAfter: 1 });
    const controller = new AbortController();
    const response = await postChat(app, { authorization: token, signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    const seen = upstream.requests.at(-1)!;
    controller.abort();
    await waitFor(() => seen.abortedAt !== undefined, 'the upstream to see the abort');
  });

  it('answers OPTIONS with 204 and the seed CORS headers, without auth', async () => {
    const response = await fetch(`${app.url}/chat`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS, PUT, DELETE');
    expect(response.headers.get('access-control-allow-headers')).toBe('*');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });

  describe('token rules (SEEDS-SPEC §4.2, RELIABILITY §3.5)', () => {
    const refusals: [string, () => Promise<string | undefined>][] = [
      ['no Authorization header', async () => undefined],
      ['the raw SECRET_KEY (the seed accepted it)', async () => SECRET],
      ['Bearer SECRET_KEY', async () => `Bearer ${SECRET}`],
      ['an expired token', () => signToken({ claims: { jti: 'a', exp: nowSeconds() - 60 } })],
      ['a token without exp', () => signToken({ claims: { jti: 'a' } })],
      ['a token beyond the lifetime cap', () => signToken({ claims: { jti: 'a', exp: nowSeconds() + 25 * 3600 } })],
      ['a token signed with another key', () => signToken({ claims: { jti: 'a', exp: nowSeconds() + 60 }, key: 'another-key' })],
      ['HS512 (only HS256 is allowed)', () => signToken({ claims: { jti: 'a', exp: nowSeconds() + 60 }, alg: 'HS512' })],
      [
        'alg none',
        async () => {
          const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
          const payload = Buffer.from(JSON.stringify({ jti: 'a', exp: nowSeconds() + 60 })).toString('base64url');
          return `${header}.${payload}.`;
        },
      ],
      [
        'a tampered payload with the original signature',
        async () => {
          const good = await signToken({ claims: { jti: 'a', exp: nowSeconds() + 60 } });
          const [header, , signature] = good.split('.');
          const payload = Buffer.from(JSON.stringify({ jti: 'admin', exp: nowSeconds() + 60 })).toString('base64url');
          return `${header}.${payload}.${signature}`;
        },
      ],
      [
        'a stripped signature',
        async () => {
          const good = await signToken({ claims: { jti: 'a', exp: nowSeconds() + 60 } });
          return good.slice(0, good.lastIndexOf('.') + 1);
        },
      ],
      ['a 10 KiB value', async () => 'a'.repeat(10 * 1024)],
      ["SQL metacharacters", async () => "' or 1=1 --"],
    ];

    it.each(refusals)('refuses %s with 403 and an empty body', async (_name, make) => {
      const before = upstream.requests.length;
      const authorization = await make();
      const response = await postChat(app, authorization === undefined ? {} : { authorization });
      expect(response.status).toBe(403);
      expect(await response.text()).toBe('');
      expect(upstream.requests.length).toBe(before);
    });

    it('accepts a token minted elsewhere with SECRET_KEY when it has exp within the cap', async () => {
      const minted = await signToken({ claims: { jti: 'elsewhere', exp: nowSeconds() + 600 } });
      const response = await postChat(app, { authorization: `bearer ${minted}`, body: { model: 'gpt-test', messages: MESSAGES } });
      expect(response.status).toBe(200);
    });
  });
});

describe('API_PROXY and CHAT_API_KEY from the environment', () => {
  it('make http://API_PROXY/v1/chat/completions an upstream, with Bearer CHAT_API_KEY', async () => {
    const upstream = await startScriptedUpstream();
    const app = await startApp({ env: { SECRET_KEY: SECRET, API_PROXY: `127.0.0.1:${upstream.port}`, CHAT_API_KEY: 'sk-chat-api-key' } });
    try {
      const response = await postChat(app, { authorization: await getToken(app), body: { model: 'any-model', messages: MESSAGES } });
      expect(response.status).toBe(200);
      const seen = upstream.requests.at(-1)!;
      expect(seen.url).toBe('/v1/chat/completions');
      expect(seen.headers.authorization).toBe('Bearer sk-chat-api-key');
      expect(seen.json.model).toBe('any-model');
    } finally {
      await app.close();
      await upstream.close();
    }
  });

  it('refuse to start when API_PROXY is not host[:port]', async () => {
    await expect(startApp({ env: { API_PROXY: 'http://example.test/v1' } })).rejects.toThrow(/API_PROXY/);
  });
});
