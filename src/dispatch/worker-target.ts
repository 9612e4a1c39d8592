import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { SEED_MESSAGES, openAiErrorBody, type CancelSignal, type ForwardCall, type Target, type TargetResponse } from '../gateway/index.js';
import { SwitchboardError } from '../platform/errors.js';
import type { Broker } from './brokers/broker.js';
import type { CallbackEndpoint } from './callback-endpoint.js';
import type { ReplyHub } from './reply-hub.js';
import { StreamRelay } from './stream-relay.js';
import { encodeTask } from './task.js';
import { escapeName, MAX_TOPIC_LENGTH, topicFor } from './topics.js';

/** SEEDS-SPEC §1.3: the seed's 408 body, rendered exactly (clients match on it). */
export const TIMEOUT_BODY = JSON.stringify({ error: { message: SEED_MESSAGES.timeout, type: 'request_timeout_error', param: null, code: null } });

export interface WorkerTargetSettings {
  /** Non-stream wait for `/res` before the seed's 408. */
  readonly timeoutMs: number;
  readonly streamIdleMs: number;
  readonly keepAliveMs: number;
  /** The gateway's per-stream bound for a slow client (R7), applied to worker streams too. */
  readonly maxBufferedBytes: number;
  readonly clientStallMs: number;
}

export interface WorkerTargetDeps {
  readonly broker: Broker;
  readonly hub: ReplyHub;
  readonly endpoint: CallbackEndpoint;
  readonly settings: WorkerTargetSettings;
  readonly log: FastifyBaseLogger;
}

function clientClosed(): SwitchboardError {
  return new SwitchboardError('client_closed', 'Client closed the request.');
}

/**
 * The worker queue of one model as a gateway Target: `send` publishes the seed task on
 * `model-<model>` and answers from this instance's ReplyHub, so records, keys and timeouts work
 * as for upstreams. Streams resolve at once with an SSE body fed by `/res/ws`; non-streams wait
 * for `/res` up to timeoutMs, then answer the seed's 408 themselves.
 */
export class WorkerTarget implements Target {
  readonly kind = 'worker';
  /** Non-stream calls end at TIMEOUT with the seed's 408 (sendResult). */
  readonly boundsItsOwnTime = true;
  readonly id: string;
  private readonly topic: string;
  private readonly isTopicTooLong: boolean;

  constructor(
    model: string,
    private readonly deps: WorkerTargetDeps,
  ) {
    this.topic = topicFor(model);
    this.id = `worker:${this.topic}`;
    // Measured escaped: that is the name brokers are given, and one character may take twelve.
    this.isTopicTooLong = escapeName(this.topic).length > MAX_TOPIC_LENGTH;
  }

  async send(call: ForwardCall, signal: CancelSignal): Promise<TargetResponse> {
    if (signal.aborted) throw clientClosed();
    if (call.json === undefined) throw new SwitchboardError('invalid_json', SEED_MESSAGES.invalidJson);
    if (this.isTopicTooLong) throw new SwitchboardError('bad_request', 'The model name is too long for a worker topic.', { param: 'model' });
    const endpoint = await this.deps.endpoint.forTask(call.stream);
    // Request ids can come from the client (x-request-id); a clash with a pending one gets a fresh id.
    // Chosen after the last await, so the id is still free when the hub takes it below.
    const requestId = this.deps.hub.has(call.requestId) ? randomUUID() : call.requestId;
    const replyToken = randomBytes(24).toString('base64url');
    const payload = encodeTask({ requestId, stream: call.stream, body: call.body, endpoint, headers: call.headers, replyToken });
    // The broker's deduplication id names this task, not its request id: a client may send its
    // x-request-id again (a retry, a fixed id), and JetStream would drop that task as a duplicate.
    const parked = { requestId, replyToken, payload, signal, messageId: randomUUID() };
    return call.stream ? this.sendStream(parked) : this.sendResult(parked);
  }

  private async publish(parked: Parked): Promise<void> {
    try {
      await this.deps.broker.publish(this.topic, parked.payload, { messageId: parked.messageId });
    } catch (error) {
      this.deps.log.warn({ err: error, topic: this.topic, broker: this.deps.broker.kind }, 'publishing a worker task failed');
      throw new SwitchboardError('upstream_unavailable', 'The worker queue is unavailable; retry shortly.', {
        cause: error,
        headers: { 'retry-after': '1' },
        details: { reason: 'broker_unavailable' },
      });
    }
  }

  private async sendResult(parked: Parked): Promise<TargetResponse> {
    const { hub, settings } = this.deps;
    const { requestId, signal } = parked;
    if (signal.aborted) throw clientClosed();
    let finish: () => void = () => undefined;
    const answer = new Promise<TargetResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        finish();
        resolve(jsonResponse(408, TIMEOUT_BODY));
      }, settings.timeoutMs);
      const onAbort = () => {
        finish();
        reject(clientClosed());
      };
      finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        hub.remove(requestId);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      hub.add({
        kind: 'result',
        requestId,
        token: parked.replyToken,
        settle: (dataText) => {
          finish();
          resolve(jsonResponse(200, dataText));
        },
        // A 502 answer rather than a thrown error: as with the 408, the worker did answer.
        fail: (message) => {
          finish();
          resolve(jsonResponse(502, JSON.stringify(openAiErrorBody(new SwitchboardError('upstream_error', message)))));
        },
      });
    });
    // The client may leave while the publish is under way: the rejection is handled by our caller later.
    answer.catch(() => undefined);
    try {
      await this.publish(parked);
    } catch (error) {
      finish();
      throw error;
    }
    return answer;
  }

  private async sendStream(parked: Parked): Promise<TargetResponse> {
    const { hub, settings } = this.deps;
    const { requestId, signal } = parked;
    if (signal.aborted) throw clientClosed();
    const onAbort = () => relay.fail(clientClosed());
    const relay = new StreamRelay({
      keepAliveMs: settings.keepAliveMs,
      idleMs: settings.streamIdleMs,
      maxBufferedBytes: settings.maxBufferedBytes,
      clientStallMs: settings.clientStallMs,
      // Forgetting the request tells its worker to stop (ReplyHub.onCancel); later frames get refused.
      onOverflow: () => hub.remove(requestId),
      onClose: () => {
        signal.removeEventListener('abort', onAbort);
        hub.remove(requestId);
      },
    });
    signal.addEventListener('abort', onAbort, { once: true });
    hub.add({ kind: 'stream', requestId, token: parked.replyToken, frame: (data, isEnd) => relay.frame(data, isEnd), lost: () => relay.lost(), fail: (message) => relay.refused(message) });
    try {
      await this.publish(parked);
    } catch (error) {
      relay.fail(error as Error);
      throw error;
    }
    return { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body: relay.body };
  }
}

interface Parked {
  readonly requestId: string;
  readonly replyToken: string;
  readonly payload: Buffer;
  readonly signal: CancelSignal;
  readonly messageId: string;
}

/** Seed 000: `Content-Type: application/json` (no charset); body = the worker's `data` bytes (empty when absent). */
function jsonResponse(status: number, text: string | undefined): TargetResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Readable.from(text === undefined ? [] : [Buffer.from(text)]) };
}
