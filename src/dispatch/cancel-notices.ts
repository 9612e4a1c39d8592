import { createHash } from 'node:crypto';
import type { WebSocket } from '@fastify/websocket';

/** Ids remembered per socket: enough for the streams one worker can have just been told about. */
const REMEMBERED_PER_SOCKET = 512;
/** Longer ids are remembered by their hash, so a worker's made-up ids cannot grow the memory. */
const LONGEST_KEPT_ID = 64;

/**
 * Sends `{"request_id","cancel":true}` on a worker socket (our addition to the seed protocol: the
 * seed never writes on this socket) to say nobody reads that stream any more; seed workers ignore
 * it. Each socket hears it at most once per request id: without that, a worker sending frames for
 * a request it was already told about (or made up) got one message back per frame. The memory is
 * the last REMEMBERED_PER_SOCKET ids per socket, and goes when the socket does (WeakMap).
 */
export class CancelNotices {
  private readonly sent = new WeakMap<object, Set<string>>();

  send(socket: WebSocket, requestId: string): void {
    if (socket.readyState !== socket.OPEN) return;
    let ids = this.sent.get(socket);
    if (!ids) this.sent.set(socket, (ids = new Set()));
    const key = requestId.length > LONGEST_KEPT_ID ? createHash('sha256').update(requestId).digest('base64') : requestId;
    if (ids.has(key)) return;
    // A Set iterates in insertion order: the first one is the oldest.
    const oldest = ids.values().next();
    if (ids.size >= REMEMBERED_PER_SOCKET && !oldest.done) ids.delete(oldest.value);
    ids.add(key);
    socket.send(JSON.stringify({ request_id: requestId, cancel: true }));
  }
}
