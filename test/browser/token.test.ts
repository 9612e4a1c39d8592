import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/start-app.js';
import { SECRET, decodePart, nowSeconds } from './browser-helpers.js';

const tokenUrl = (app: TestApp, query: string) => `${app.url}/token?${query}`;

describe('GET /token', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ overrides: { 'browser.secretKey': SECRET, 'browser.tokenFailuresPerMinute': 3 } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('issues an HS256 token with exp and jti, as the seed, in a JSON body', async () => {
    const before = nowSeconds();
    const response = await fetch(tokenUrl(app, `id=alice&hour=2&key=${SECRET}`));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await response.text();
    expect(text).toMatch(/^\{"token":"[\w-]+\.[\w-]+\.[\w-]+"\}\n$/);
    const token = JSON.parse(text).token as string;
    expect(decodePart(token, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodePart(token, 1);
    expect(Object.keys(claims).sort()).toEqual(['exp', 'jti']);
    expect(claims['jti']).toBe('alice');
    expect(claims['exp']).toBeGreaterThanOrEqual(before + 7200);
    expect(claims['exp']).toBeLessThanOrEqual(nowSeconds() + 7200);
  });

  it('omits jti when the id is empty (allowed, as the seed)', async () => {
    const response = await fetch(tokenUrl(app, `id=&hour=1&key=${SECRET}`));
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    expect(Object.keys(decodePart(token, 1))).toEqual(['exp']);
  });

  it.each([
    ['hour=1&key=k'],
    ['id=a&key=k'],
    ['id=a&hour=1'],
    [''],
  ])('answers Go http.Error 400 when a parameter is missing (%s)', async (query) => {
    const response = await fetch(tokenUrl(app, query));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe('Missing required parameters\n');
  });

  it.each(['abc', '1.5', '', '0', '-1', '25', '99999999999999999999'])('refuses hour=%s with 400 Invalid param time', async (hour) => {
    const response = await fetch(tokenUrl(app, `id=a&hour=${hour}&key=${SECRET}`));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe('Invalid param time\n');
  });

  it('accepts the largest hour the cap allows', async () => {
    const response = await fetch(tokenUrl(app, `id=a&hour=24&key=${SECRET}`));
    expect(response.status).toBe(200);
  });

  it('refuses an over-long id', async () => {
    const response = await fetch(tokenUrl(app, `id=${'x'.repeat(300)}&hour=1&key=${SECRET}`));
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('Invalid param id\n');
  });

  it('refuses a wrong key with 403 and an empty body, then rate-limits the caller', async () => {
    for (const key of ['wrong', `${SECRET}x`, '']) {
      const response = await fetch(tokenUrl(app, `id=a&hour=1&key=${encodeURIComponent(key)}`));
      expect(response.status).toBe(403);
      expect(await response.text()).toBe('');
    }
    const limited = await fetch(tokenUrl(app, `id=a&hour=1&key=${SECRET}`));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
  });

  it('has no CORS headers and no OPTIONS handling, as the seed', async () => {
    const response = await fetch(tokenUrl(app, 'id=a&hour=1&key=x'));
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const options = await fetch(`${app.url}/token`, { method: 'OPTIONS' });
    expect(options.status).toBe(404);
    expect(options.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never writes the key or the query string to the logs', async () => {
    await fetch(tokenUrl(app, `id=logcheck&hour=1&key=${SECRET}`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const requestLines = app.logs.filter((line) => line.includes('"/token'));
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of app.logs) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain('key=');
    }
  });
});

describe('SECRET_KEY unset or empty', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ env: { SECRET_KEY: '' } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses every /token call, whatever the key', async () => {
    for (const key of ['', 'anything']) {
      const response = await fetch(tokenUrl(app, `id=a&hour=1&key=${key}`));
      expect(response.status).toBe(403);
      expect(await response.text()).toBe('');
    }
  });

  it('refuses /chat and /conv with or without an Authorization header (the seed let them through)', async () => {
    for (const path of ['/chat', '/conv']) {
      for (const headers of [{}, { authorization: '' }, { authorization: 'Bearer x' }] as Record<string, string>[]) {
        const response = await fetch(`${app.url}${path}`, { method: 'POST', headers: { ...headers, 'chat-type': 'conversation' }, body: '{}' });
        expect(response.status).toBe(403);
        expect(await response.text()).toBe('');
      }
    }
  });
});

describe('.env in the working directory', () => {
  it('configures SECRET_KEY (seed 003 loads .env with godotenv)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'switchboard-dotenv-'));
    writeFileSync(join(cwd, '.env'), `SECRET_KEY=${SECRET}-dotenv\n`);
    const app = await startApp({ cwd });
    try {
      const refused = await fetch(tokenUrl(app, `id=a&hour=1&key=${SECRET}`));
      expect(refused.status).toBe(403);
      const response = await fetch(tokenUrl(app, `id=a&hour=1&key=${SECRET}-dotenv`));
      expect(response.status).toBe(200);
    } finally {
      await app.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
