import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { SseParser } from '../../platform/sse.js';
import type { Broker, Subscription } from '../brokers/broker.js';
import { rawMembers } from '../raw-json.js';
import { decodeTask, type Task } from '../task.js';
import type { ModelClient } from './model-client.js';
import { FrameChannels } from './frame-channels.js';
import { postResult, replyJson, type ReplyAddress } from './reply-client.js';
import { completionAsChunk, errorData, jsonText, upstreamErrorData } from './upstream-answer.js';

export interface WorkerOptions {
  readonly broker: Broker;
  readonly model: ModelClient;
  readonly topic: string;
  readonly subscription: string;
  readonly concurrency: number;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  /** Ping interval of the /res/ws reply sockets (frame-channel.ts); WS_HEARTBEAT. */
  readonly heartbeatMs: number;
  readonly log: Logger;
}

const UNREACHABLE = 'The model server could not be reached.';

function isEventStream(response: Dispatcher.ResponseData): boolean {
  const type = response.headers['content-type'];
  return (Array.isArray(type) ? type.join(',') : (type ?? '')).startsWith('text/event-stream');
}

/**
 * `switchboard worker`: takes tasks of one topic as a member of its shared group, calls the
 * model, and answers the gateway instance named in the task (SEEDS-SPEC §1.5). Each task is
 * handled on its own: an upstream error reaches its client as an OpenAI error object and
 * changes nothing for the next task (unlike the seed Python worker's global error mode).
 */
export class Worker {
  private subscription: Subscription | undefined;
  /** One persistent /res/ws socket per gateway endpoint, shared by the streams answered there. */
  private readonly channels: FrameChannels;

  constructor(private readonly options: WorkerOptions) {
    this.channels = new FrameChannels({ heartbeatMs: options.heartbeatMs });
  }

  async start(): Promise<void> {
    const { broker, topic, subscription, concurrency, maxDeliver, ackWaitMs, log } = this.options;
    this.subscription = await broker.consume({
      topic,
      group: subscription,
      concurrency,
      maxDeliver,
      ackWaitMs,
      handle: (payload) => this.handle(payload),
      onError: (error) => log.warn({ err: error }, 'broker error'),
    });
    log.info({ topic, subscription, broker: broker.kind, concurrency }, 'worker started');
  }

  /** Graceful: stops taking tasks, finishes the running ones, then closes the reply sockets. */
  async stop(): Promise<void> {
    await this.subscription?.stop();
    await this.channels.closeAll();
  }

  async handle(payload: Buffer): Promise<void> {
    const task = decodeTask(payload);
    if (!task) {
      this.options.log.warn('dropped a message that is not a task');
      return;
    }
    const address = { requestId: task.request_id, replyToken: task.reply_token };
    const body = rawMembers(payload.toString('utf8')).get('data') ?? 'null';
    if (task.stream) await this.answerStream(task, { address, body });
    else await this.answerResult(task, { address, body });
  }

  private async answerResult(task: Task, input: { address: ReplyAddress; body: string }): Promise<void> {
    const dataText = await this.resultData(input.body);
    try {
      const status = await postResult(task.endpoint, input.address, dataText);
      if (status !== 200) this.options.log.info({ requestId: task.request_id, status }, 'the gateway refused the reply');
    } catch (error) {
      this.options.log.warn({ err: error, requestId: task.request_id }, 'could not deliver the reply');
    }
  }

  private async resultData(body: string): Promise<string> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.options.model.call(body);
    } catch (error) {
      this.options.log.warn({ err: error }, 'model call failed');
      return errorData(UNREACHABLE, 'upstream_unavailable');
    }
    const text = await response.body.text().catch(() => undefined);
    if (text === undefined) return errorData('The model server connection was lost.', 'upstream_reset');
    if (response.statusCode >= 400) return upstreamErrorData(response.statusCode, text);
    return jsonText(text) ?? errorData('The model server answered with something that is not JSON.', 'upstream_invalid_json');
  }

  private async answerStream(task: Task, input: { address: ReplyAddress; body: string }): Promise<void> {
    // Aborted when the gateway cancels the request or goes away: stop calling the model for it.
    const stream = this.channels.open(task.endpoint, task.request_id);
    const frame = (fields: { end: boolean; dataText?: string | undefined }) => stream.send(replyJson(input.address, fields));
    try {
      await this.relayStream(input.body, { frame, signal: stream.signal });
    } catch (error) {
      if (!stream.signal.aborted) this.options.log.warn({ err: error, requestId: task.request_id }, 'stream failed');
      frame({ end: true, dataText: errorData(UNREACHABLE, 'upstream_unavailable') });
    } finally {
      // Acked only after the answer went out (at-least-once).
      await stream.release();
    }
  }

  /** Relays upstream SSE chunks as they arrive; a JSON answer becomes one chunk and the end. */
  private async relayStream(body: string, sink: { frame: (fields: { end: boolean; dataText?: string | undefined }) => void; signal: AbortSignal }): Promise<void> {
    const response = await this.options.model.call(body, sink.signal);
    if (response.statusCode >= 400) {
      const text = await response.body.text();
      sink.frame({ end: true, dataText: upstreamErrorData(response.statusCode, text) });
      return;
    }
    if (!isEventStream(response)) {
      const text = jsonText(await response.body.text());
      if (text === undefined) sink.frame({ end: true, dataText: errorData('The model server answered with something that is not JSON.', 'upstream_invalid_json') });
      else {
        sink.frame({ end: false, dataText: completionAsChunk(text) });
        sink.frame({ end: true });
      }
      return;
    }
    const parser = new SseParser();
    for await (const chunk of response.body) {
      for (const event of parser.push(chunk as Buffer)) {
        if (event.data === '[DONE]') {
          sink.frame({ end: true });
          response.body.destroy();
          return;
        }
        const data = jsonText(event.data);
        if (data !== undefined) sink.frame({ end: false, dataText: data });
      }
    }
    sink.frame({ end: true, dataText: errorData('The model server ended the stream before it was complete.', 'upstream_incomplete') });
  }

  /** Test hook: behave as a killed process (no acks, sockets dropped). */
  async crash(): Promise<void> {
    this.channels.terminateAll();
    await this.subscription?.stop({ abandon: true });
  }
}
