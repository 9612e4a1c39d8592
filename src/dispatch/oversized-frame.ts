import type { WebSocket } from '@fastify/websocket';
import type { FastifyBaseLogger } from 'fastify';
import type { RawData } from 'ws';
import type { CancelNotices } from './cancel-notices.js';
import { replyAddressHint, replyTooLargeMessage } from './reply-body.js';
import type { ReplyHub } from './reply-hub.js';
import { wsFrameHead } from './ws-frame-text.js';

/**
 * ws's own per-message cap (maxPayload), as a multiple of dispatch.maxReplyBytes. ws checks it
 * from the frame header before buffering the payload, so it is what bounds a socket's memory;
 * frames between the two limits are ours to refuse one request at a time. Past it ws still closes
 * the socket (1009) and every stream on it fails: keeping memory bounded costs that.
 */
const HARD_FRAME_FACTOR = 4;

/** Enough for `request_id` and `reply_token` ahead of `data`; the rest of the frame is never decoded. */
const HEAD_BYTES = 64 * 1024;

export function hardFrameLimit(maxReplyBytes: number): number {
  return maxReplyBytes * HARD_FRAME_FACTOR;
}

export interface OversizedFrameDeps {
  readonly hub: ReplyHub;
  readonly cancels: CancelNotices;
  readonly maxReplyBytes: number;
  readonly log: FastifyBaseLogger;
}

/**
 * A `/res/ws` frame over maxReplyBytes fails only the stream it names (its client gets an in-band
 * error, its worker a cancel), so the worker's other streams on the socket go on. The request is
 * read from the frame's head, where workers write it (the seed's reply shape lists it first). A
 * frame whose head does not name both request_id and reply_token cannot be placed without decoding
 * all of it; skipping it could leave a stream silently missing a chunk, so the socket is closed
 * (1009, as ws itself does past its cap) and every stream on it fails with an error instead.
 */
export function handleOversizedFrame(deps: OversizedFrameDeps, socket: WebSocket, data: RawData): void {
  const { requestId, token } = replyAddressHint(wsFrameHead(data, HEAD_BYTES));
  if (requestId === undefined || token === undefined) {
    deps.log.warn({ limit: deps.maxReplyBytes }, 'worker frame too large and names no request ahead of its data; socket closed');
    socket.close(1009, 'Message too big');
    // Now, not when the close handshake ends: a worker that never answers it would hold them 30 s.
    deps.hub.socketClosed(socket);
    return;
  }
  const message = replyTooLargeMessage(deps.maxReplyBytes);
  const verdict = deps.hub.failFrame({ requestId, token, socket }, message);
  if (verdict === 'ok') deps.log.warn({ requestId, limit: deps.maxReplyBytes }, 'worker frame too large; its stream failed');
  else deps.log.debug({ requestId, verdict }, 'worker frame too large and refused');
  // Its stream is over (or never was ours): the worker may stop. A forged token tells nobody anything.
  if (verdict === 'ok' || verdict === 'unknown') deps.cancels.send(socket, requestId);
}
