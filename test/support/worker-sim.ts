import { request } from 'undici';
import WebSocket from 'ws';
import { decodeTask, groupFor, openBroker, topicFor, type Broker, type Subscription, type Task } from '../../src/dispatch/index.js';
import { chatCompletion, chunk } from './scripted-upstream.js';

/** One reply a simulated worker sends; `token: null` leaves the token out, a string forges it. */
export interface SimReplyFields {
  readonly data?: unknown;
  /** Exact `data` text (wins over `data`), to check byte-for-byte relaying. */
  readonly dataText?: string;
  readonly token?: string | null;
  readonly requestId?: string;
}

export interface SimFrameFields extends SimReplyFields {
  readonly end: boolean;
}

/** What a handler can do with one task. */
export interface SimTask {
  readonly task: Task;
  readonly deliveryCount: number;
  /** `POST /res`; resolves with the gateway's status and JSON body. */
  post(fields?: SimReplyFields & { bearer?: string }): Promise<{ status: number; body: any }>;
  /** Sends one `/res/ws` frame on this task's socket (opened on first use). */
  frame(fields: SimFrameFields): Promise<void>;
  /** Sends raw bytes on the socket (malformed-frame tests). */
  sendRaw(payload: string | Buffer, options?: { binary?: boolean }): Promise<void>;
  /** Default stream answer: role chunk, words, finish chunk, end. */
  streamAnswer(text?: string): Promise<void>;
  /** Closes the socket cleanly. */
  closeSocket(): Promise<void>;
}

export type SimHandler = (task: SimTask) => Promise<void>;

export interface ReceivedTask {
  readonly task: Task;
  readonly payload: string;
  readonly deliveryCount: number;
  readonly worker: string;
}

export interface WorkerSimOptions {
  readonly brokerUrl: string;
  readonly model: string;
  readonly name?: string;
  readonly concurrency?: number;
  /** @default 1000 */
  readonly ackWaitMs?: number;
  /** @default 3 */
  readonly maxDeliver?: number;
  /** Shared ledger (several sims on one model). */
  readonly ledger?: ReceivedTask[];
}

function lastUserText(data: any): string {
  const messages = Array.isArray(data?.messages) ? data.messages : [];
  return String(messages.at(-1)?.content ?? '');
}

function dataField(fields: SimReplyFields): string {
  if (fields.dataText !== undefined) return `,"data":${fields.dataText}`;
  return 'data' in fields ? `,"data":${JSON.stringify(fields.data)}` : '';
}

/**
 * A worker simulator for tests (STYLE.md §10 worker-sim): consumes a model's topic through the
 * real Broker adapter and answers over the real `/res` and `/res/ws`, with knobs for faults.
 * The default handler answers `sim: <last user message>`; set `handler` per test.
 */
export class WorkerSim {
  readonly received: ReceivedTask[];
  readonly name: string;
  handler: SimHandler | undefined;
  private readonly broker: Broker;
  private subscription: Subscription | undefined;
  private readonly sockets = new Set<WebSocket>();

  private constructor(private readonly options: WorkerSimOptions) {
    this.received = options.ledger ?? [];
    this.name = options.name ?? 'sim';
    this.broker = openBroker({ url: options.brokerUrl, maxDeliver: options.maxDeliver ?? 3, ackWaitMs: options.ackWaitMs ?? 1_000 });
  }

  static async start(options: WorkerSimOptions): Promise<WorkerSim> {
    const sim = new WorkerSim(options);
    const topic = topicFor(options.model);
    sim.subscription = await sim.broker.consume({
      topic,
      group: groupFor(topic),
      concurrency: options.concurrency ?? 8,
      ackWaitMs: options.ackWaitMs ?? 1_000,
      maxDeliver: options.maxDeliver ?? 3,
      handle: (payload, info) => sim.handle(payload, info.deliveryCount),
    });
    return sim;
  }

  private async handle(payload: Buffer, deliveryCount: number): Promise<void> {
    const task = decodeTask(payload);
    if (!task) return;
    this.received.push({ task, payload: payload.toString('utf8'), deliveryCount, worker: this.name });
    const simTask = this.simTask(task, deliveryCount);
    await (this.handler ?? defaultHandler)(simTask);
  }

  private simTask(task: Task, deliveryCount: number): SimTask {
    let socket: Promise<WebSocket> | undefined;
    const open = () =>
      (socket ??= new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(task.endpoint);
        this.sockets.add(ws);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
        ws.once('close', () => this.sockets.delete(ws));
      }));
    const send = async (payload: string | Buffer, binary = false) => {
      const ws = await open();
      await new Promise<void>((resolve, reject) => ws.send(payload, { binary }, (error) => (error ? reject(error) : resolve())));
    };
    const head = (fields: SimReplyFields) => {
      const token = fields.token === undefined ? task.reply_token : fields.token;
      return `{"request_id":${JSON.stringify(fields.requestId ?? task.request_id)}${token === null ? '' : `,"reply_token":${JSON.stringify(token)}`}`;
    };
    const simTask: SimTask = {
      task,
      deliveryCount,
      post: async (fields = {}) => {
        const response = await request(task.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(fields.bearer ? { authorization: `Bearer ${fields.bearer}` } : {}) },
          body: `${head(fields)}${dataField(fields)}}`,
        });
        const text = await response.body.text();
        return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
      },
      frame: (fields) => send(`${head(fields)},"end":${String(fields.end)}${dataField(fields)}}`),
      sendRaw: (payload, options = {}) => send(payload, options.binary ?? false),
      streamAnswer: async (text = `sim: ${lastUserText(task.data)}`) => {
        const model = String((task.data as any)?.model ?? 'sim');
        await simTask.frame({ end: false, data: chunk('', { model, role: true }) });
        for (const word of text.split(/(?<= )/)) await simTask.frame({ end: false, data: chunk(word, { model }) });
        await simTask.frame({ end: false, data: chunk(undefined, { model, finish: 'stop' }) });
        await simTask.frame({ end: true });
      },
      closeSocket: async () => {
        if (!socket) return;
        const ws = await socket;
        ws.close();
        await new Promise((resolve) => ws.once('close', resolve));
      },
    };
    return simTask;
  }

  /** Dies like a killed process: no acks, no progress reports, every socket dropped. */
  async crash(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await this.subscription?.stop({ abandon: true });
    await this.broker.close();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await this.subscription?.stop();
    await this.broker.close();
  }
}

/** A worker that answers like the seed's workers: JSON via /res, chunks via /res/ws. */
export async function defaultHandler(task: SimTask): Promise<void> {
  if (task.task.stream) return task.streamAnswer();
  const data = task.task.data as any;
  await task.post({ data: chatCompletion(`sim: ${lastUserText(data)}`, String(data?.model ?? 'sim')) });
}
