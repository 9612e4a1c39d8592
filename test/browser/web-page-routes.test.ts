import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/start-app.js';

describe('the chat page files (no browser needed)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['/ui/app.js', 'app.js', 'text/javascript; charset=utf-8'],
    ['/ui/conv-api.js', 'conv-api.js', 'text/javascript; charset=utf-8'],
    ['/ui/style.css', 'style.css', 'text/css; charset=utf-8'],
  ])('serves %s as-is with its content type and a strict CSP', async (path, file, type) => {
    const response = await fetch(`${app.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await response.text()).toBe(readFileSync(new URL(`../../src/browser/web/${file}`, import.meta.url), 'utf8'));
  });

  it('has no inline script or style and never assigns innerHTML', () => {
    const html = readFileSync(new URL('../../src/browser/web/index.html', import.meta.url), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    for (const file of ['app.js', 'conv-api.js']) {
      const script = readFileSync(new URL(`../../src/browser/web/${file}`, import.meta.url), 'utf8');
      expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|localStorage\.setItem|eval\(/);
    }
  });

  it('leaves other paths to the shared 404', async () => {
    const response = await fetch(`${app.url}/ui/missing.js`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('404 page not found\n');
  });
});
