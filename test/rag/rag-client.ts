import { request as httpRequest } from 'node:http';
import { api, newConversation, newUser, startChatApp, type ApiResponse, type ChatTestApp } from '../chat/chat-client.js';
import type { ScriptedUpstream } from '../support/scripted-upstream.js';
import type { StoreKind } from '../support/stores.js';

export { api, newConversation, newUser, type ApiResponse, type ChatTestApp };

/** A real app for RAG tests: fast bcrypt, tiny limits where a test needs them, optional scripted upstream. */
export function startRagApp(options: { store: StoreKind; upstream?: ScriptedUpstream; overrides?: Record<string, unknown> }): Promise<ChatTestApp> {
  return startChatApp({
    store: options.store,
    ...(options.upstream ? { upstream: options.upstream } : {}),
    overrides: { 'gateway.maxAttempts': 1, ...options.overrides },
  });
}

/** POST /api/rag/doc/upload as multipart (fetch + FormData, like a browser). */
export async function upload(app: { url: string }, input: { token: string; kbId?: string; fileName?: string; data?: Buffer | string; type?: string }): Promise<ApiResponse> {
  const form = new FormData();
  if (input.kbId !== undefined) form.append('kb_id', input.kbId);
  if (input.data !== undefined) form.append('file', new Blob([input.data], { type: input.type ?? 'application/octet-stream' }), input.fileName ?? 'doc.txt');
  const response = await fetch(`${app.url}/api/rag/doc/upload`, { method: 'POST', headers: { authorization: `Bearer ${input.token}` }, body: form });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: response.headers };
}

/** Raw HTTP upload with a hand-built body and content type (boundaries, framing); tolerates early close. */
export function rawUpload(app: { url: string }, input: { token: string; contentType: string; body: Buffer }): Promise<{ status: number; text: string }> {
  const url = new URL('/api/rag/doc/upload', app.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { authorization: `Bearer ${input.token}`, 'content-type': input.contentType, 'content-length': input.body.length } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(input.body);
  });
}

/** Creates a KB and returns its id. */
export async function newKb(app: { url: string }, token: string, name = 'kb'): Promise<string> {
  const response = await api(app, { path: '/api/rag/kb/create', token, body: { kb_name: name } });
  if (response.status !== 200) throw new Error(`kb create failed: ${response.status} ${response.text}`);
  return response.body.kb_id;
}

/** Uploads a document and returns its id (throws on failure). */
export async function addDoc(app: { url: string }, input: { token: string; kbId: string; fileName: string; data: Buffer | string }): Promise<string> {
  const response = await upload(app, input);
  if (response.status !== 200) throw new Error(`upload failed: ${response.status} ${response.text}`);
  return response.body.doc_id;
}

export async function retrieve(app: { url: string }, input: { token: string; kbId: string; query: string; topK?: number }): Promise<ApiResponse> {
  return api(app, { path: '/api/rag/retrieve', token: input.token, body: { kb_id: input.kbId, query: input.query, ...(input.topK === undefined ? {} : { top_k: input.topK }) } });
}

/** Rows of one table for a KB (tests check what deletion leaves behind). */
export async function countRows(app: ChatTestApp, table: 'docs' | 'chunks', kbId: string): Promise<number> {
  const row = await app.app.store.db.selectFrom(table).select((builder) => builder.fn.countAll<number>().as('count')).where('kb_id', '=', kbId).executeTakeFirstOrThrow();
  return row.count;
}
