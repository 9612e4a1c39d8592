import websocket from '@fastify/websocket';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from '@fastify/websocket';
import type { RawData } from 'ws';
import { SEED_MESSAGES } from '../gateway/index.js';
import { SwitchboardError, toSwitchboardError } from '../platform/errors.js';
import type { CancelNotices } from './cancel-notices.js';
import { rawMembers } from './raw-json.js';
import { readReplyBody, replyAddressHint, replyTooLargeMessage } from './reply-body.js';
import type { ReplyHub, ReplyVerdict } from './reply-hub.js';
import { handleOversizedFrame, hardFrameLimit } from './oversized-frame.js';
import { wsFrameBytes, wsFrameText } from './ws-frame-text.js';
import { keepSocketAlive } from './ws-heartbeat.js';

export interface ReplyRoutesDeps {
  readonly hub: ReplyHub;
  /** `cancel` messages to workers, at most one per socket and request id. */
  readonly cancels: CancelNotices;
  /** Largest `/res` body and `/res/ws` frame. */
  readonly maxReplyBytes: number;
  /** Ping interval of worker sockets (ws-heartbeat.ts). */
  readonly heartbeatMs: number;
}

/** SEEDS-SPEC §1.3: `/res` answers; the 404 body is the seed's own, not the OpenAI shape. */
const VERDICT_REPLIES: Readonly<Record<ReplyVerdict, { status: number; body: unknown }>> = {
  ok: { status: 200, body: { status: 'ok' } },
  unknown: { status: 404, body: { error: 'Request ID not found' } },
  unauthorized: { status: 401, body: { error: 'Reply token required' } },
  forbidden: { status: 403, body: { error: 'Reply token does not match' } },
};

const INVALID_JSON_BODY = { error: { message: SEED_MESSAGES.invalidJson, type: 'invalid_request_error', param: null, code: null } };

interface ParsedReply {
  readonly requestId: string;
  readonly token: string | undefined;
  readonly isEnd: boolean;
  /** `data` exactly as sent; undefined when absent. */
  readonly dataText: string | undefined;
}

/**
 * `{"request_id": string, "data": any, "end"?: bool, "reply_token"?: string}`; undefined when
 * malformed. `anonymous`: a body that Go decodes without error into the id "" (`null`, or an
 * object whose `request_id` is missing or null; Go leaves a string field alone on a JSON null).
 */
function readReply(text: string): ParsedReply | 'anonymous' | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null) return 'anonymous';
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const reply = value as Record<string, unknown>;
  const requestId = reply['request_id'];
  const token = reply['reply_token'];
  if (requestId === undefined || requestId === null) return 'anonymous';
  if (typeof requestId !== 'string') return undefined;
  if (token !== undefined && typeof token !== 'string') return undefined;
  const end = reply['end'];
  if (end !== undefined && typeof end !== 'boolean') return undefined;
  return { requestId, token, isEnd: end === true, dataText: 'data' in reply ? rawMembers(text).get('data') : undefined };
}

/** A reply frame as /res/ws takes it: one without a request id is as malformed as any other. */
export function parseReply(text: string): ParsedReply | undefined {
  const reply = readReply(text);
  return typeof reply === 'object' ? reply : undefined;
}

/** The token from `Authorization: Bearer <token>`, the alternative to the `reply_token` field on /res. */
function bearerToken(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** An oversized `/res` body: the client it answers is told now, not at TIMEOUT (the worker gets 413). */
function failTooLarge(deps: ReplyRoutesDeps, request: FastifyRequest, head: string): void {
  const hint = replyAddressHint(head);
  if (hint.requestId === undefined) return;
  const message = replyTooLargeMessage(deps.maxReplyBytes);
  const verdict = deps.hub.failResult({ requestId: hint.requestId, token: hint.token ?? bearerToken(request) }, message);
  if (verdict === 'ok') request.log.warn({ requestId: hint.requestId, limit: deps.maxReplyBytes }, 'worker reply too large; its request failed');
  else request.log.debug({ requestId: hint.requestId, verdict }, 'worker reply too large');
}

async function handleResult(deps: ReplyRoutesDeps, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const parsed = typeof request.body === 'string' ? readReply(request.body) : undefined;
  if (!parsed) {
    await reply.code(400).send(INVALID_JSON_BODY);
    return;
  }
  // No request has the id "": the seed answers these as an unknown id.
  if (parsed === 'anonymous') {
    await reply.code(VERDICT_REPLIES.unknown.status).send(VERDICT_REPLIES.unknown.body);
    return;
  }
  const verdict = deps.hub.deliverResult({ requestId: parsed.requestId, token: parsed.token ?? bearerToken(request), dataText: parsed.dataText });
  // The client's answer is written in the microtasks and ticks that settling started; the
  // worker's 200 waits for the next turn, so the worker's wake-up and its broker ack do not
  // compete with the client's answer for the CPU (BENCHMARKS.md, broker section).
  if (verdict === 'ok') await new Promise((resolve) => setImmediate(resolve));
  const answer = VERDICT_REPLIES[verdict];
  await reply.code(answer.status).send(answer.body);
}

/** One socket may carry frames for many requests; bad frames are ignored and the socket stays open. */
function handleSocket(deps: ReplyRoutesDeps, socket: WebSocket, request: FastifyRequest): void {
  socket.on('message', (data: RawData, isBinary: boolean) => {
    // Closed for an oversized frame: ws still reads until the close handshake ends.
    if (isBinary || socket.readyState !== socket.OPEN) return;
    if (wsFrameBytes(data) > deps.maxReplyBytes) {
      handleOversizedFrame({ ...deps, log: request.log }, socket, data);
      return;
    }
    const parsed = parseReply(wsFrameText(data));
    if (!parsed) return;
    const verdict = deps.hub.deliverFrame({ ...parsed, socket });
    if (verdict === 'ok') return;
    request.log.debug({ requestId: parsed.requestId, verdict }, 'worker frame refused');
    // Nobody waits for this request any more: tell the worker so it can stop (workers may ignore it).
    if (verdict === 'unknown' && !parsed.isEnd) deps.cancels.send(socket, parsed.requestId);
  });
  socket.on('close', () => deps.hub.socketClosed(socket));
  keepSocketAlive(socket, deps.heartbeatMs);
  socket.on('error', (error) => request.log.debug({ err: error }, 'worker socket error'));
}

/**
 * `POST /res` and `GET /res/ws` (SEEDS-SPEC §1.3): where workers answer. No gateway key: each
 * reply carries its request's token (`reply_token`, or `Authorization: Bearer` on /res).
 * Missing token → 401, wrong token → 403, unknown/finished id → 404.
 */
export async function registerReplyRoutes(app: FastifyInstance, deps: ReplyRoutesDeps): Promise<void> {
  // maxReplyBytes is checked per frame by handleSocket, so one oversized frame fails only its own
  // request; ws's cap, which closes the whole socket, stays as the hard memory bound.
  await app.register(websocket, { options: { maxPayload: hardFrameLimit(deps.maxReplyBytes) } });
  // The body is kept as text so `data` can be relayed byte for byte.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', async (request: FastifyRequest, payload: IncomingMessage) => {
    const text = await readReplyBody(payload, deps.maxReplyBytes, (head) => failTooLarge(deps, request, head));
    if (text === undefined) throw new SwitchboardError('payload_too_large', 'Reply body is too large');
    return text;
  });
  app.setErrorHandler(async (rawError, request, reply) => {
    const error = toSwitchboardError(rawError);
    if (error.status >= 500) request.log.error({ err: rawError }, 'worker reply failed');
    if (error.code === 'payload_too_large') return reply.code(413).send({ error: 'Reply body is too large' });
    if (error.status < 500) return reply.code(400).send(INVALID_JSON_BODY);
    return reply.code(500).send({ error: { message: SEED_MESSAGES.internal, type: 'internal_server_error', param: null, code: null } });
  });
  // Workers answer requests still in flight during a graceful stop here: served while draining.
  const config = { servedWhileDraining: true };
  app.post('/res', { config }, (request, reply) => handleResult(deps, request, reply));
  app.get('/res/ws', { websocket: true, config }, (socket, request) => handleSocket(deps, socket, request));
}
