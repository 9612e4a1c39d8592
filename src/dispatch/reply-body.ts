import type { Readable } from 'node:stream';
import { rawMembers } from './raw-json.js';

/** Who a `/res` body says it answers, read from as much of it as was kept. */
export interface ReplyAddressHint {
  readonly requestId: string | undefined;
  readonly token: string | undefined;
}

function stringMember(members: ReadonlyMap<string, string>, name: string): string | undefined {
  const text = members.get(name);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : undefined;
  } catch {
    // Cut off by the limit, or not a string.
    return undefined;
  }
}

/** What the client of a worker reply over the limit is told, on /res and /res/ws alike. */
export function replyTooLargeMessage(maxReplyBytes: number): string {
  return `The worker's reply was larger than the ${maxReplyBytes}-byte limit.`;
}

/**
 * `request_id` and `reply_token` from the first bytes of a reply that is too large to keep.
 * Workers write them ahead of `data`, as the seed's reply shape lists them; a body whose `data`
 * comes first names nobody here.
 */
export function replyAddressHint(head: string): ReplyAddressHint {
  const members = rawMembers(head);
  return { requestId: stringMember(members, 'request_id'), token: stringMember(members, 'reply_token') };
}

/**
 * Reads a `/res` body as UTF-8 text up to `limit` bytes. Past it nothing more is kept (the rest
 * is read and dropped, as Fastify's own limit does, so the worker still gets its 413) and
 * `tooLarge` hears what was kept, so the request it answers can fail now instead of at TIMEOUT.
 */
export function readReplyBody(payload: Readable, limit: number, tooLarge: (head: string) => void): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    // A body that broke off is the worker's fault (400), as Fastify's own body reader says.
    const onError = (error: Error & { statusCode?: number }) => reject(Object.assign(error, { statusCode: error.statusCode ?? 400 }));
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (received + bytes.length > limit) {
        // The rest is dropped as it comes; a worker that breaks off meanwhile has had its answer.
        payload.off('data', onData).off('end', onEnd).off('error', onError).on('error', () => undefined);
        chunks.push(bytes.subarray(0, limit - received));
        tooLarge(Buffer.concat(chunks).toString('utf8'));
        resolve(undefined);
        return;
      }
      received += bytes.length;
      chunks.push(bytes);
    };
    payload.on('data', onData).on('end', onEnd).on('error', onError);
    payload.resume();
  });
}
