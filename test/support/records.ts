import type { Selectable } from 'kysely';
import type { RecordTable } from '../../src/gateway/tables.js';
import type { TestApp } from './start-app.js';

export type RecordRow = Selectable<RecordTable>;

/**
 * Waits (bounded) until the recorder has written the terminal row of the request `id` names: the
 * x-request-id the test sent (kept as `client_request_id`) or the gateway's own id (a request that
 * outlives a flush first shows up as a `pending` marker, RELIABILITY F20).
 */
export async function waitForRecord(app: TestApp, id: string): Promise<RecordRow> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const row = await app.app.store.db
      .selectFrom('records')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', id), eb('client_request_id', '=', id)]))
      .where('outcome', '!=', 'pending')
      .executeTakeFirst();
    if (row) return row;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  throw new Error(`no record ${id} after 3 s`);
}

/** Posts a chat completion through the app with the test key and a chosen request id. */
export function postChat(app: TestApp, body: Record<string, unknown>, options: { requestId?: string; signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer sk-test-gateway-key',
      'content-type': 'application/json',
      ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hello' }], ...body }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on (connect refused). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
