import { afterEach, describe, expect, it } from 'vitest';
import { rawHttp } from '../support/raw-http.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startApp, TEST_KEY, type TestApp } from '../support/start-app.js';

/**
 * RELIABILITY S4: a /v1 path never leaves the upstream's prefix. Dot-segments (plain or
 * percent-encoded, `/` or `\` separated) would let a key holder reach any path on the upstream's
 * host with the upstream's key once that server normalises them (`/v1/../admin` → `/admin`).
 */
let upstream: ScriptedUpstream | undefined;
let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  await upstream?.close();
  app = undefined;
  upstream = undefined;
});

const body = '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}';
const post = (target: string) =>
  `POST ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;

describe('/v1 path traversal', () => {
  it('refuses dot-segments with 400 and forwards nothing, through the raw lane and the Fastify route', async () => {
    upstream = await startScriptedUpstream({ name: 'a' });
    app = await startApp({ overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/api/paas/v4`, sk: 'sk-upstream-0001' }] } });
    const port = Number(new URL(app.url).port);
    const targets = [
      '/v1/../admin/upstreams',
      '/v1/chat/../../secret',
      '/v1/./chat/completions',
      '/api/v1/../../x',
      '/v1/..\\..\\x',
      '/v1/%2e%2e/admin',
      '/api/v1/%2E%2e/%2e%2e/x',
      '/v1/..%2f..%2fx',
      '/v1/%2e%2e%5cx',
      '/v1/chat/..',
      '/v1/chat/completions/..?a=1',
    ];
    for (const target of targets) {
      const answer = await rawHttp(port, post(target));
      expect({ target, status: answer.status }).toEqual({ target, status: 400 });
      expect(answer.text).toContain('invalid_request_error');
    }
    expect(upstream.requests).toHaveLength(0);
    // Dots inside a segment are not dot-segments.
    const ok = await rawHttp(port, post('/v1/chat/completions?x=../..'));
    expect(ok.status).toBe(200);
    expect(upstream.requests.map((request) => request.url)).toEqual(['/api/paas/v4/chat/completions?x=../..']);
  });
});
