import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { SECRET } from './browser-helpers.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, requireChromium } from './require-chromium.js';

// These run inside the page (page.evaluate / waitForFunction); the project compiles without the DOM lib.
declare const document: any;
declare const sessionStorage: any;
declare const localStorage: any;

const chromiumStatus = requireChromium();
const SCREENSHOT_DIR = join(process.cwd(), 'test-output');
const WAIT = { timeout: 10_000 };

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
}

/** The text of the newest assistant message, once it is no longer streaming. */
async function lastAnswer(page: Page): Promise<string> {
  await page.waitForFunction(() => {
    const answers = document.querySelectorAll('.message.assistant');
    const last = answers[answers.length - 1];
    return last !== undefined && !last.hasAttribute('aria-busy');
  }, undefined, WAIT);
  return page.locator('.message.assistant .content').last().innerText();
}

describe.skipIf(!chromiumStatus.available)('the chat page in headless Chromium', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp({
      overrides: {
        'browser.secretKey': SECRET,
        'browser.defaultModel': 'gpt-test',
        'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream' }],
      },
    });
    profile = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'));
    // Playwright passes the fresh profile as --user-data-dir itself.
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1100, height: 760 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // A refused /token answer is logged by Chromium as a failed resource; that one is expected.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });
  afterAll(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await app.close();
    await upstream.close();
  });

  it('is served with a strict Content-Security-Policy and the right content types', async () => {
    const response = await page.goto(`${app.url}/`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    const script = await fetch(`${app.url}/ui/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const style = await fetch(`${app.url}/ui/style.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token-id');
  });

  it('refuses a wrong key with a message, then gets a token kept in sessionStorage only', async () => {
    await page.fill('#token-id', 'page-user');
    await page.fill('#token-key', 'not-the-key');
    await page.click('#sign-in-button');
    await page.waitForFunction(() => document.getElementById('sign-in-error')?.textContent !== '', undefined, WAIT);
    expect(await page.textContent('#sign-in-error')).toContain('not right');

    await page.fill('#token-key', SECRET);
    await page.press('#token-key', 'Enter');
    await page.waitForSelector('#workspace:not([hidden])', WAIT);
    expect(await page.textContent('#session-label')).toContain('page-user');
    const storage = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
    expect(storage.session).toEqual(['switchboard.browserToken']);
    expect(storage.local).toEqual([]);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('message');
  });

  it('streams an answer, lists the new conversation and continues it with the first turn as context', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), chunk('Hello '), chunk('from '), chunk('the stream.'), chunk(undefined, { finish: 'stop' })], intervalMs: 30 });
    await send(page, 'Hello, browser');
    expect(await lastAnswer(page)).toBe('Hello from the stream.');
    await page.waitForSelector('#conversation-list button.conversation', WAIT);
    expect(await page.locator('#conversation-list button.conversation').allInnerTexts()).toEqual(['Hello, browser']);

    await send(page, 'And a second turn');
    expect(await lastAnswer(page)).toBe('echo: And a second turn');
    expect(upstream.requests.at(-1)!.json.messages).toEqual([
      { role: 'user', content: 'Hello, browser' },
      { role: 'assistant', content: 'Hello from the stream.' },
      { role: 'user', content: 'And a second turn' },
    ]);
  });

  it('renders model output as text, never as HTML', async () => {
    await send(page, '<img src=x onerror="alert(1)"><b>bold</b>');
    const answer = await lastAnswer(page);
    expect(answer).toBe('echo: <img src=x onerror="alert(1)"><b>bold</b>');
    expect(await page.locator('.transcript img, .transcript b').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('stops a streaming answer with the Stop button', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('This answer '), chunk('never ends')], stallAfter: 1 });
    await send(page, 'Talk forever');
    await page.waitForFunction(() => document.querySelector('.message.assistant[aria-busy] .content')?.textContent === 'This answer ', undefined, WAIT);
    await page.click('#stop');
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Stopped.', undefined, WAIT);
    expect(await page.isEnabled('#send')).toBe(true);
  });

  it('keeps the token across a reload and reopens a conversation with its history, then saves a screenshot', async () => {
    await page.reload();
    await page.waitForSelector('#workspace:not([hidden])', WAIT);
    await page.waitForSelector('#conversation-list button.conversation', WAIT);
    await page.click('#conversation-list button.conversation >> nth=0');
    await page.waitForFunction(() => document.querySelectorAll('.transcript .message').length >= 4, undefined, WAIT);
    const texts = await page.locator('.transcript .message .content').allInnerTexts();
    expect(texts.slice(0, 4)).toEqual(['Hello, browser', 'Hello from the stream.', 'And a second turn', 'echo: And a second turn']);
    await send(page, 'Back again');
    expect(await lastAnswer(page)).toBe('echo: Back again');
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'browser-chat.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
