import type { Broker, ConsumeOptions, Delivery, Subscription } from './broker.js';
import { PullLoops, type PullSource } from './pull-loop.js';
import { FETCH_WAIT_MS, MAX_QUEUED_TASKS, TASK_MAX_AGE_MS } from './task-limits.js';

interface Entry {
  readonly payload: Buffer;
  readonly publishedAt: number;
  deliveries: number;
}

/** One consumer group of a topic: a queue its members take from. */
class Group {
  readonly queue: Entry[] = [];
  readonly waiters = new Set<() => void>();

  wake(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }
}

interface Topic {
  readonly groups: Map<string, Group>;
  /** Tasks published before any group existed; the first group takes them (like a Redis group from id 0). */
  backlog: Entry[];
}

/** The messages of one in-process broker; named buses are shared by every broker opened on the same name. */
class Bus {
  readonly topics = new Map<string, Topic>();
  users = 0;

  topic(name: string): Topic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = { groups: new Map(), backlog: [] };
      this.topics.set(name, topic);
    }
    return topic;
  }

  group(topicName: string, groupName: string): Group {
    const topic = this.topic(topicName);
    let group = topic.groups.get(groupName);
    if (!group) {
      group = new Group();
      group.queue.push(...topic.backlog);
      topic.backlog = [];
      topic.groups.set(groupName, group);
    }
    return group;
  }
}

/** `memory://<name>` buses, so two apps (or an app and a test worker) in one process share messages. */
const NAMED_BUSES = new Map<string, Bus>();

function enqueue(queue: Entry[], entry: Entry): void {
  if (queue.length >= MAX_QUEUED_TASKS) throw new Error(`in-process queue is full (${MAX_QUEUED_TASKS} tasks)`);
  queue.push(entry);
}

/** Takes up to `max` fresh entries; tasks older than TASK_MAX_AGE_MS are dropped on the way. */
function take(group: Group, max: number): Entry[] {
  const taken: Entry[] = [];
  while (taken.length < max && group.queue.length > 0) {
    const entry = group.queue.shift();
    if (entry && Date.now() - entry.publishedAt < TASK_MAX_AGE_MS) taken.push(entry);
  }
  return taken;
}

class GroupSource implements PullSource {
  constructor(
    private readonly group: Group,
    private readonly ackWaitMs: number,
  ) {}

  async *fetch(max: number, signal: AbortSignal): AsyncIterable<Delivery> {
    if (this.group.queue.length === 0) await this.waitForWork(signal);
    for (const entry of take(this.group, max)) yield this.deliver(entry);
  }

  private waitForWork(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.group.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, FETCH_WAIT_MS);
      signal.addEventListener('abort', done, { once: true });
      this.group.waiters.add(done);
    });
  }

  /** Like JetStream: an unsettled delivery silent for ackWait goes back to the front of the queue. */
  private deliver(entry: Entry): Delivery {
    entry.deliveries++;
    let isSettled = false;
    const redeliver = () => {
      if (isSettled) return;
      isSettled = true;
      this.group.queue.unshift(entry);
      this.group.wake();
    };
    let timer = setTimeout(redeliver, this.ackWaitMs);
    const settle = () => {
      clearTimeout(timer);
      isSettled = true;
    };
    return {
      payload: entry.payload,
      deliveryCount: entry.deliveries,
      ack: async () => settle(),
      nak: async () => {
        clearTimeout(timer);
        redeliver();
      },
      working: async () => {
        if (isSettled) return;
        clearTimeout(timer);
        timer = setTimeout(redeliver, this.ackWaitMs);
      },
    };
  }

  async close(): Promise<void> {
    this.group.wake();
  }
}

/**
 * The default broker: `npm start` needs no broker server. Tasks live in this process only, so
 * workers must run in it too (tests, embedding); `memory://<name>` shares one bus between apps.
 */
export class InProcessBroker implements Broker {
  readonly kind = 'in-process';
  private readonly bus: Bus;
  private readonly loops = new PullLoops();

  constructor(private readonly name?: string) {
    const named = name === undefined ? undefined : NAMED_BUSES.get(name);
    this.bus = named ?? new Bus();
    if (name !== undefined) NAMED_BUSES.set(name, this.bus);
    this.bus.users++;
  }

  async publish(topicName: string, payload: Buffer): Promise<void> {
    const topic = this.bus.topic(topicName);
    const entry = { payload, publishedAt: Date.now(), deliveries: 0 };
    if (topic.groups.size === 0) return enqueue(topic.backlog, entry);
    for (const group of topic.groups.values()) {
      enqueue(group.queue, { ...entry });
      group.wake();
    }
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    return this.loops.start(new GroupSource(this.bus.group(options.topic, options.group), options.ackWaitMs), options);
  }

  async close(): Promise<void> {
    await this.loops.stopAll();
    this.bus.users--;
    if (this.name !== undefined && this.bus.users <= 0) NAMED_BUSES.delete(this.name);
  }
}
