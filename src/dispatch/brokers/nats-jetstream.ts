import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager, type Consumer, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { escapeName, groupFor } from '../topics.js';
import type { Broker, ConsumeOptions, Delivery, Subscription } from './broker.js';
import { PullLoops, type PullSource } from './pull-loop.js';
import { FETCH_WAIT_MS, MAX_QUEUED_TASKS, PUBLISH_TIMEOUT_MS, TASK_MAX_AGE_MS } from './task-limits.js';

/** JetStream API error codes (nats-server 2.9 `server/errors.json`). */
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
/** Between two failed first connects; after the first, nats.js reconnects on its own. */
const CONNECT_RETRY_MS = 500;
/** JetStream deduplicates a re-published task id (PublishOptions.messageId) within this window. */
const DUPLICATE_WINDOW_MS = 120_000;

export interface NatsBrokerOptions {
  readonly url: string;
  /** Consumer settings used when this side creates the durable consumer first. */
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly onError?: ((error: unknown) => void) | undefined;
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/**
 * A JetStream publish nobody answered: no stream holds the subject. nats.js reports the server's
 * "no responders" as JetStreamNotEnabled, a class its package does not export.
 */
function isNoStream(error: unknown): boolean {
  return error instanceof Error && error.name === 'JetStreamNotEnabled';
}

function topicKey(topic: string, group: string): string {
  return `${topic}\n${group}`;
}

/** `nats://user:pass@host:4222` or `nats://token@host:4222` → nats.js connection options. */
function connectionOptions(url: string) {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  return {
    servers: parsed.host,
    ...(user && pass ? { user, pass } : user ? { token: user } : {}),
    name: 'switchboard',
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
}

/**
 * NATS JetStream (server 2.9 features only). One stream per topic, named and subscribed by the
 * escaped topic (topics.ts), with work-queue retention (a message is gone once acked), a cap on
 * age and count, and `Nats-Msg-Id` = the task's own id. Workers of a topic share one durable pull
 * consumer named after the escaped group, with explicit acks, AckWait and MaxDeliver.
 */
export class NatsJetStreamBroker implements Broker {
  readonly kind = 'nats';
  private connection: NatsConnection | undefined;
  private isConnected = false;
  private isClosed = false;
  private readonly streams = new Map<string, Promise<void>>();
  private readonly loops = new PullLoops();
  private readonly connecting: Promise<void>;
  private readonly createdAt = Date.now();
  /** One JetStream client per connection (building one per publish costs on the hot path). */
  private client: { connection: NatsConnection; js: JetStreamClient } | undefined;

  constructor(private readonly options: NatsBrokerOptions) {
    // Connect in the background: the server starts without a broker, as seed 000's lazy client did.
    this.connecting = this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    while (!this.isClosed) {
      try {
        const connection = await connect(connectionOptions(this.options.url));
        if (this.closing()) {
          await connection.close();
          return;
        }
        this.connection = connection;
        this.isConnected = true;
        void this.watchStatus(connection);
        return;
      } catch (error) {
        this.options.onError?.(error);
        await sleep(CONNECT_RETRY_MS);
      }
    }
  }

  /** Read through a method: close() flips it while connect() is awaited. */
  private closing(): boolean {
    return this.isClosed;
  }

  private async watchStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') this.isConnected = false;
      if (status.type === 'reconnect') this.isConnected = true;
    }
  }

  /** In the start-up window a publish waits for the first connection; afterwards it never waits. */
  private async firstConnection(): Promise<void> {
    const windowLeftMs = PUBLISH_TIMEOUT_MS - (Date.now() - this.createdAt);
    if (this.connection || windowLeftMs <= 0) return;
    await Promise.race([this.connecting, sleep(windowLeftMs)]);
  }

  private live(): NatsConnection {
    if (!this.connection || !this.isConnected || this.connection.isClosed()) throw new Error('NATS is not connected');
    return this.connection;
  }

  /** Creates the topic's stream and its shared consumer once (idempotent across instances). */
  private ensureTopic(topic: string, group: string, settings: { maxDeliver: number; ackWaitMs: number }): Promise<void> {
    const key = topicKey(topic, group);
    let ready = this.streams.get(key);
    if (!ready) {
      ready = this.createTopic(topic, group, settings);
      this.streams.set(key, ready);
      ready.catch(() => this.streams.delete(key));
    }
    return ready;
  }

  private async createTopic(topic: string, group: string, settings: { maxDeliver: number; ackWaitMs: number }): Promise<void> {
    const manager = await jetstreamManager(this.live(), { timeout: PUBLISH_TIMEOUT_MS });
    const name = escapeName(topic);
    try {
      await manager.streams.info(name);
    } catch (error) {
      if (!isApiError(error, STREAM_NOT_FOUND)) throw error;
      await manager.streams.add({
        name,
        subjects: [name],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
        max_msgs: MAX_QUEUED_TASKS,
        max_age: nanos(TASK_MAX_AGE_MS),
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      });
    }
    const durable = escapeName(group);
    try {
      await manager.consumers.info(name, durable);
    } catch (error) {
      if (!isApiError(error, CONSUMER_NOT_FOUND)) throw error;
      await manager.consumers.add(name, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(settings.ackWaitMs),
        max_deliver: settings.maxDeliver,
      });
    }
  }

  async publish(topic: string, payload: Buffer, options: { messageId: string }): Promise<void> {
    await this.firstConnection();
    this.live();
    try {
      await this.publishOnce(topic, payload, options);
    } catch (error) {
      if (!isNoStream(error)) throw error;
      // The stream this instance made is gone (deleted, or the server restarted without its
      // store): make it and its consumer again, once, instead of failing until a restart (R8).
      this.streams.delete(topicKey(topic, groupFor(topic)));
      await this.publishOnce(topic, payload, options);
    }
  }

  private async publishOnce(topic: string, payload: Buffer, options: { messageId: string }): Promise<void> {
    await this.ensureTopic(topic, groupFor(topic), this.options);
    const connection = this.live();
    if (this.client?.connection !== connection) this.client = { connection, js: jetstream(connection) };
    await this.client.js.publish(escapeName(topic), payload, { msgID: options.messageId, timeout: PUBLISH_TIMEOUT_MS });
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    return this.loops.start(new NatsSource(this, options), options);
  }

  /** The group's consumer, creating stream and consumer if this worker is the first. */
  async consumerFor(options: ConsumeOptions): Promise<Consumer> {
    // A worker may start before the broker: its fetch loop waits for the first connection.
    if (!this.connection) await this.connecting;
    await this.ensureTopic(options.topic, options.group, options);
    return jetstream(this.live()).consumers.get(escapeName(options.topic), escapeName(options.group));
  }

  async close(): Promise<void> {
    this.isClosed = true;
    await this.loops.stopAll();
    await this.connecting;
    await this.connection?.close().catch(() => undefined);
  }
}

function toDelivery(message: JsMsg): Delivery {
  return {
    payload: Buffer.from(message.data),
    deliveryCount: message.info.deliveryCount,
    ack: async () => message.ack(),
    nak: async () => message.nak(),
    working: async () => message.working(),
  };
}

class NatsSource implements PullSource {
  private consumer: Consumer | undefined;

  constructor(
    private readonly broker: NatsJetStreamBroker,
    private readonly options: ConsumeOptions,
  ) {}

  async *fetch(max: number, signal: AbortSignal): AsyncIterable<Delivery> {
    this.consumer ??= await this.broker.consumerFor(this.options);
    const consumer = this.consumer;
    try {
      const messages = await consumer.fetch({ max_messages: max, expires: FETCH_WAIT_MS });
      const stop = () => void messages.close();
      signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const message of messages) yield toDelivery(message);
      } finally {
        signal.removeEventListener('abort', stop);
      }
    } catch (error) {
      // The consumer may be gone (stream deleted, server restarted without its store): look it up again.
      this.consumer = undefined;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.consumer = undefined;
  }
}
