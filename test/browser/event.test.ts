import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/start-app.js';

describe('GET /event', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ overrides: { 'browser.eventIntervalMs': 5 } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('streams the seed bytes exactly, without auth, with SSE and CORS headers', async () => {
    const response = await fetch(`${app.url}/event?appId=1&page=4&pageSize=5`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS, PUT, DELETE');
    expect(await response.text()).toBe('data: 0145\n\ndata: 1145\n\nevent: close\ndata: close\n\n');
  });

  it('concatenates the parameters as they are, first value when repeated', async () => {
    const response = await fetch(`${app.url}/event?appId=ab&page=x%20y&pageSize=&appId=zz`);
    expect(await response.text()).toBe('data: 0abx y\n\ndata: 1abx y\n\nevent: close\ndata: close\n\n');
  });

  it('treats a missing parameter as empty (the seed panicked and dropped the connection)', async () => {
    const response = await fetch(`${app.url}/event?page=4`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('data: 04\n\ndata: 14\n\nevent: close\ndata: close\n\n');
  });

  it('refuses a line break that would inject SSE fields', async () => {
    const response = await fetch(`${app.url}/event?appId=1%0Aevent:%20close&page=1&pageSize=1`);
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('');
  });

  it('answers OPTIONS with 204 and no body', async () => {
    const response = await fetch(`${app.url}/event`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('access-control-allow-headers')).toBe('*');
  });

  it('stops writing when the client leaves and keeps serving', async () => {
    const slow = await startApp({ overrides: { 'browser.eventIntervalMs': 60_000 } });
    try {
      // node:http rather than fetch: destroying the request closes exactly this one socket.
      const status = await new Promise<number>((resolve, reject) => {
        const request = get(`${slow.url}/event?appId=1&page=1&pageSize=1`, (response) => {
          resolve(response.statusCode ?? 0);
          request.destroy();
        });
        request.on('error', reject);
      });
      expect(status).toBe(200);
      const health = await fetch(`${slow.url}/health`);
      expect(health.status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});
