import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { groupFor } from '../topics.js';
import type { Broker, ConsumeOptions, Delivery, Subscription } from './broker.js';
import { PullLoops, type PullSource } from './pull-loop.js';
import { FETCH_WAIT_MS, MAX_QUEUED_TASKS, PUBLISH_TIMEOUT_MS } from './task-limits.js';

/** Reconnect attempts back off up to this delay and never stop (Redis may come back). */
const MAX_RECONNECT_DELAY_MS = 2_000;
/** The field each stream entry keeps its task JSON in. */
const TASK_FIELD = 'task';

export interface RedisBrokerOptions {
  readonly url: string;
  readonly onError?: ((error: unknown) => void) | undefined;
}

type StreamEntry = [id: string, fields: string[]];
type PendingEntry = [id: string, consumer: string, idleMs: number, deliveries: number];

function isBusyGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('BUSYGROUP');
}

/**
 * Redis Streams: the stream key is the topic itself (Redis keys take any bytes), workers of a
 * topic share the consumer group `<topic>-subscription`. Commands fail at once while Redis is
 * away (`enableOfflineQueue: false`) instead of queueing in memory (RELIABILITY §4). An entry is
 * deleted when acked, so the stream holds only unfinished tasks (capped at MAX_QUEUED_TASKS,
 * oldest trimmed first). Entries silent for ackWait in another consumer's pending list are
 * claimed again; those delivered maxDeliver times are dropped.
 */
export class RedisStreamsBroker implements Broker {
  readonly kind = 'redis';
  readonly redis: Redis;
  private readonly groups = new Map<string, Promise<void>>();
  private readonly loops = new PullLoops();
  private wasReady = false;
  private readonly createdAt = Date.now();

  constructor(private readonly options: RedisBrokerOptions) {
    this.redis = this.client(PUBLISH_TIMEOUT_MS);
    this.redis.once('ready', () => (this.wasReady = true));
  }

  /** A connection that fails fast while Redis is away; `commandTimeoutMs` bounds every command. */
  client(commandTimeoutMs: number): Redis {
    const redis = new Redis(this.options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutMs,
      connectTimeout: PUBLISH_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    });
    let isDown = false;
    redis.on('error', (error: unknown) => {
      if (!isDown) this.options.onError?.(error);
      isDown = true;
    });
    redis.on('ready', () => (isDown = false));
    return redis;
  }

  /** The group is created from id 0, so tasks published before any worker joined are kept. */
  ensureGroup(topic: string, group: string): Promise<void> {
    const key = `${topic}\n${group}`;
    let ready = this.groups.get(key);
    if (!ready) {
      ready = this.redis.xgroup('CREATE', topic, group, '0', 'MKSTREAM').then(
        () => undefined,
        (error: unknown) => {
          if (!isBusyGroup(error)) throw error;
        },
      );
      this.groups.set(key, ready);
      ready.catch(() => this.groups.delete(key));
    }
    return ready;
  }

  /** Forgets created groups (Redis restarted without persistence: create them again). */
  forgetGroups(): void {
    this.groups.clear();
  }

  /** In the start-up window a publish waits for the first `ready`; afterwards it never waits. */
  private async firstReady(): Promise<void> {
    const windowLeftMs = PUBLISH_TIMEOUT_MS - (Date.now() - this.createdAt);
    if (this.wasReady || this.redis.status === 'ready' || windowLeftMs <= 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, windowLeftMs);
      this.redis.once('ready', done);
    });
  }

  async publish(topic: string, payload: Buffer): Promise<void> {
    await this.firstReady();
    await this.ensureGroup(topic, groupFor(topic));
    await this.redis.xadd(topic, 'MAXLEN', '~', MAX_QUEUED_TASKS, '*', TASK_FIELD, payload);
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    return this.loops.start(new RedisSource(this, options), options);
  }

  async close(): Promise<void> {
    await this.loops.stopAll();
    this.redis.disconnect();
  }
}

class RedisSource implements PullSource {
  /** XREADGROUP BLOCK holds its connection, so each consumer reads on its own. */
  private readonly reader: Redis;
  private readonly name = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private lastReclaimAt = 0;

  constructor(
    private readonly broker: RedisStreamsBroker,
    private readonly options: ConsumeOptions,
  ) {
    this.reader = broker.client(FETCH_WAIT_MS + PUBLISH_TIMEOUT_MS);
  }

  async *fetch(max: number): AsyncIterable<Delivery> {
    const { topic, group } = this.options;
    await this.broker.ensureGroup(topic, group);
    let free = max;
    if (Date.now() - this.lastReclaimAt >= this.options.ackWaitMs / 2) {
      this.lastReclaimAt = Date.now();
      for (const delivery of await this.reclaim(free)) {
        free--;
        yield delivery;
      }
    }
    if (free <= 0) return;
    let result: [string, StreamEntry[]][] | null;
    try {
      result = (await this.reader.xreadgroup('GROUP', group, this.name, 'COUNT', free, 'BLOCK', FETCH_WAIT_MS, 'STREAMS', topic, '>')) as [string, StreamEntry[]][] | null;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOGROUP')) this.broker.forgetGroups();
      throw error;
    }
    for (const [, entries] of result ?? []) {
      for (const [id, fields] of entries) yield this.delivery(id, { fields, deliveryCount: 1 });
    }
  }

  /** Takes over entries another consumer left silent for ackWait; drops those past maxDeliver. */
  private async reclaim(max: number): Promise<Delivery[]> {
    const { topic, group, ackWaitMs, maxDeliver } = this.options;
    const redis = this.broker.redis;
    const pending = (await redis.xpending(topic, group, 'IDLE', ackWaitMs, '-', '+', max)) as PendingEntry[];
    const deliveries: Delivery[] = [];
    for (const [id, , , deliveries_] of pending) {
      if (deliveries_ >= maxDeliver) {
        await redis.multi().xack(topic, group, id).xdel(topic, id).exec();
        continue;
      }
      const claimed = (await redis.xclaim(topic, group, this.name, ackWaitMs, id)) as (StreamEntry | null)[];
      for (const entry of claimed) {
        if (entry) deliveries.push(this.delivery(entry[0], { fields: entry[1], deliveryCount: deliveries_ + 1 }));
      }
    }
    return deliveries;
  }

  private delivery(id: string, entry: { fields: string[]; deliveryCount: number }): Delivery {
    const { topic, group, ackWaitMs } = this.options;
    const redis = this.broker.redis;
    const index = entry.fields.indexOf(TASK_FIELD);
    return {
      payload: Buffer.from(index === -1 ? '' : (entry.fields[index + 1] ?? '')),
      deliveryCount: entry.deliveryCount,
      ack: async () => {
        await redis.multi().xack(topic, group, id).xdel(topic, id).exec();
      },
      // Marks the entry idle for a whole ackWait, so the next reclaim (by anyone) takes it.
      nak: async () => {
        await redis.xclaim(topic, group, this.name, 0, id, 'IDLE', ackWaitMs, 'JUSTID');
      },
      // Resets the idle time without counting a delivery.
      working: async () => {
        await redis.xclaim(topic, group, this.name, 0, id, 'JUSTID');
      },
    };
  }

  async close(): Promise<void> {
    const { topic, group } = this.options;
    try {
      // A consumer with nothing pending leaves the group; one with pending entries stays so they are reclaimed.
      const mine = (await this.broker.redis.xpending(topic, group, '-', '+', 1, this.name)) as PendingEntry[];
      if (mine.length === 0) await this.broker.redis.xgroup('DELCONSUMER', topic, group, this.name);
    } finally {
      this.reader.disconnect();
    }
  }
}
