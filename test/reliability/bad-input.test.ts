import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawHttp } from '../support/raw-http.js';
import { TEST_KEY } from '../support/start-app.js';
import { startRig, type Rig } from './harness.js';

/**
 * RELIABILITY §3.5 bad-input corpus against the real server: every case gets its 4xx and the
 * seed's error shape, never a 5xx, and the server still answers /health afterwards.
 */
let rig: Rig;
let port: number;
beforeAll(async () => {
  rig = await startRig(1, { overrides: { 'server.proxyBodyLimitBytes': 1024 * 1024 } });
  port = Number(new URL(rig.app.url).port);
});
afterAll(async () => {
  await rig.close();
});

const AUTH_LINE = `Authorization: Bearer ${TEST_KEY}\r\n`;
const chatRequest = (headers: string, body = '') => `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n${AUTH_LINE}${headers}\r\n${body}`;

async function expectAlive(): Promise<void> {
  const answer = await rawHttp(port, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  expect(answer.status).toBe(200);
}

describe('HTTP framing and headers (raw sockets)', () => {
  const cases: [string, string | Buffer, number[]][] = [
    ['request line of 20 KiB', `GET /v1/models?q=${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, [414, 431]],
    ['200 headers', `GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${Array.from({ length: 200 }, (_, index) => `X-H${index}: v\r\n`).join('')}\r\n`, [200]],
    ['one 20 KiB header', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20 * 1024)}\r\n\r\n`, [431]],
    ['duplicate Content-Length', chatRequest('Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n', '{}'), [400]],
    ['Content-Length with Transfer-Encoding (smuggling)', chatRequest('Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'), [400]],
    // Node de-chunks and leaves the (unapplied) gzip coding to the app, which reads `{}` as JSON.
    ['Transfer-Encoding: gzip, chunked', chatRequest('Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'), [200, 400, 415]],
    ['CR inside a header value', `GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n`, [400]],
    ['NUL inside a header value', `GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n`, [400]],
    ['Expect: 100-continue with an oversize Content-Length (no body sent)', chatRequest(`Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${64 * 1024 * 1024}\r\n`), [413]],
    ['HTTP/1.0 without Host', 'GET /health HTTP/1.0\r\n\r\n', [200]],
    ['HTTP/1.1 without Host', 'GET /health HTTP/1.1\r\n\r\n', [400]],
    ['unknown method', 'FOO /health HTTP/1.1\r\nHost: x\r\n\r\n', [400]],
    ['a body over the /v1 limit', chatRequest(`Content-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\n`, `{"x":"${'a'.repeat(2 * 1024 * 1024 - 8)}"}`), [413]],
  ];

  it.each(cases)('%s', async (_name, request, statuses) => {
    const answer = await rawHttp(port, request);
    expect(statuses).toContain(answer.status);
    await expectAlive();
  });

  it('a gzip bomb with Content-Encoding: gzip is never inflated: 4xx, server alive', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const head = `Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n`;
    const answer = await rawHttp(port, Buffer.concat([Buffer.from(chatRequest(head)), bomb]));
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    await expectAlive();
  });
});

describe('JSON bodies on /v1', () => {
  const send = (body: string | Buffer, contentType = 'application/json') =>
    fetch(`${rig.app.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': contentType }, body });
  const deep = (depth: number) => `{"model":"gpt-test","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const corpus: [string, string | Buffer, string?][] = [
    ['empty body', ''],
    ['lone brace', '{', 'invalid_json'],
    ['trailing garbage', '{"model":"gpt-test"} x', 'invalid_json'],
    ['top-level array', '[1,2]', 'invalid_json'],
    ['top-level string', '"hello"', 'invalid_json'],
    ['top-level number', '42', 'invalid_json'],
    ['nesting depth 10 000', deep(10_000)],
    ['array of 100 000 elements', `{"model":"gpt-test","x":[${new Array(100_000).fill(0).join(',')}]}`],
    ['duplicate keys', '{"model":"gpt-test","model":"gpt-test","messages":[]}'],
    ['__proto__ key', '{"model":"gpt-test","__proto__":{"polluted":true},"messages":[]}'],
    ['constructor.prototype key', '{"model":"gpt-test","constructor":{"prototype":{"polluted":true}}}'],
    ['model: 123', '{"model":123}', 'invalid_json'],
    ['messages: "x"', '{"model":"gpt-test","messages":"x"}'],
    ['stream: "yes"', '{"model":"gpt-test","stream":"yes"}', 'invalid_json'],
    ['max_tokens: -1 and 1e9, n: 1000', '{"model":"gpt-test","max_tokens":-1,"n":1000,"top_p":1e9}'],
    ['1e309', '{"model":"gpt-test","temperature":1e309}'],
    ['NaN literal', '{"model":"gpt-test","temperature":NaN}', 'invalid_json'],
    ['10 000 messages', JSON.stringify({ model: 'gpt-test', messages: Array.from({ length: 10_000 }, () => ({ role: 'user', content: 'x' })) })],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x6d, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), 'invalid_json'],
    ['lone surrogate escape', '{"model":"gpt-test","messages":[{"role":"user","content":"\\ud800"}]}'],
    ['NUL in a string', '{"model":"gpt-test","messages":[{"role":"user","content":"a\\u0000b"}]}'],
    ['model with ../', '{"model":"../../etc/passwd"}'],
    ['model of 10 KiB', `{"model":"${'m'.repeat(10 * 1024)}"}`, 'bad_request'],
    ['model with CRLF', '{"model":"a\\r\\nX-Injected: 1"}', 'bad_request'],
  ];

  it.each(corpus)('%s', async (_name, body, code) => {
    const response = await send(body);
    expect(response.status).toBeLessThan(500);
    const text = await response.text();
    if (code !== undefined) {
      expect(response.status).toBe(400);
      expect(JSON.parse(text).error).toMatchObject({ code, type: 'invalid_request_error' });
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    ['no Content-Type', undefined],
    ['text/plain', 'text/plain'],
    ['application/json; charset=latin1', 'application/json; charset=latin1'],
  ])('Content-Type %s: never a 5xx', async (_name, contentType) => {
    const response = await fetch(`${rig.app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, ...(contentType ? { 'content-type': contentType } : {}) },
      body: '{"model":"gpt-test","messages":[]}',
    });
    expect(response.status).toBeLessThan(500);
    await response.arrayBuffer();
  });
});

describe('credentials on /v1 (seed 001: 403 with its message)', () => {
  it.each([
    ['lowercase bearer', `bearer ${TEST_KEY}`],
    ['SQL metacharacters', `Bearer ' OR 1=1 --`],
    ['10 KiB value', `Bearer ${'k'.repeat(10 * 1024)}`],
    ['empty', ''],
    ['another key that shares the prefix', `Bearer ${TEST_KEY}x`],
  ])('%s → 403', async (_name, authorization) => {
    const response = await fetch(`${rig.app.url}/v1/models`, { headers: authorization ? { authorization } : {} });
    expect(response.status).toBe(403);
    expect(((await response.json()) as any).error.type).toBe('permission_error');
  });

  it('a 100 KiB Authorization header is refused by the header limit (431), server alive', async () => {
    const answer = await rawHttp(port, `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'k'.repeat(100 * 1024)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    await expectAlive();
  });

  it('two Authorization headers: Node keeps the first, the second can never smuggle a key in', async () => {
    const answer = await rawHttp(port, `GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer wrong\r\nAuthorization: Bearer ${TEST_KEY}\r\n\r\n`);
    expect(answer.status).toBe(403);
  });
});
