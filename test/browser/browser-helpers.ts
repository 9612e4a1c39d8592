import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { TestApp } from '../support/start-app.js';

/** A canary SECRET_KEY: tests grep every log line for it. */
export const SECRET = `secret-canary-${randomUUID()}`;

/** Calls /token with the right key and returns the token. */
export async function getToken(app: TestApp, id = 'tester', hour = 1): Promise<string> {
  const response = await fetch(`${app.url}/token?id=${encodeURIComponent(id)}&hour=${hour}&key=${encodeURIComponent(SECRET)}`);
  if (response.status !== 200) throw new Error(`/token answered ${response.status}`);
  const body = (await response.json()) as { token: string };
  return body.token;
}

/** Mints a token outside the app, to tamper with claims, keys and algorithms. */
export function signToken(options: { claims: Record<string, unknown>; key?: string; alg?: string }): Promise<string> {
  return new SignJWT(options.claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(options.key ?? SECRET));
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Decodes a JWT part without verifying it. */
export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8'));
}

/** POST /conv with Chat-Type: conversation, as the ChatGPT-web client does. */
export function postConv(app: TestApp, options: { token: string; body: unknown; signal?: AbortSignal }): Promise<Response> {
  return fetch(`${app.url}/conv`, {
    method: 'POST',
    headers: { authorization: options.token, 'chat-type': 'conversation', accept: 'text/event-stream', 'content-type': 'application/json' },
    body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** GET /conv with a Chat-Type, parsed as JSON. */
export async function getConv(app: TestApp, options: { token: string; chatType: string; query?: string }): Promise<{ status: number; text: string; json: any }> {
  const response = await fetch(`${app.url}/conv${options.query ?? ''}`, { headers: { authorization: `Bearer ${options.token}`, 'chat-type': options.chatType } });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

/** ChatGPT-web stream events: each `data:` JSON, and whether `data: [DONE]` ended it. */
export function parseConvStream(text: string): { events: any[]; done: boolean } {
  const blocks = text.split('\n\n').filter((block) => block !== '');
  const datas = blocks.map((block) => {
    if (!block.startsWith('data: ')) throw new Error(`not a data event: ${block}`);
    return block.slice(6);
  });
  const done = datas.at(-1) === '[DONE]';
  return { events: datas.filter((data) => data !== '[DONE]').map((data) => JSON.parse(data)), done };
}
