/** Options for one publish. */
export interface PublishOptions {
  /**
   * Deduplication id where the broker supports it (JetStream `Nats-Msg-Id`): unique per task, never
   * the request id, which a client may send again (x-request-id).
   */
  readonly messageId: string;
}

/** What a consumer's handler is told about one delivery. */
export interface DeliveryInfo {
  /** 1 on the first delivery, 2 on the first redelivery, … */
  readonly deliveryCount: number;
}

/** A message handed to one consumer of a group. The pull loop settles it; handlers never do. */
export interface Delivery extends DeliveryInfo {
  readonly payload: Buffer;
  /** Done: never deliver it again. */
  ack(): Promise<void>;
  /** Give it back: it may be delivered again (bounded by maxDeliver). */
  nak(): Promise<void>;
  /** Still working: postpone redelivery by another ack wait. */
  working(): Promise<void>;
}

export interface ConsumeOptions {
  readonly topic: string;
  /** Consumers sharing a group split the messages (consumer-group / Pulsar Shared semantics). */
  readonly group: string;
  /** Handlers running at once (seed MAX_PROCESS_NUM). */
  readonly concurrency: number;
  /** Silence after which an unsettled delivery goes to another consumer. */
  readonly ackWaitMs: number;
  /** Deliveries of one message, including the first, before it is dropped. */
  readonly maxDeliver: number;
  /**
   * Handles one message. Resolving acks it (at-least-once: ack only after the work is done);
   * throwing naks it. While it runs, progress is reported every third of ackWaitMs.
   */
  readonly handle: (payload: Buffer, info: DeliveryInfo) => Promise<void>;
  /** Broker errors the loop survives (disconnects while fetching); for logging. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

export interface StopOptions {
  /**
   * Stop as if the process died: no more progress reports, acks or naks; unsettled deliveries
   * are redelivered after ackWait. Used to simulate a crashed worker. @default false
   */
  readonly abandon?: boolean;
}

export interface Subscription {
  /** Stops fetching; by default waits for running handlers and settles them. */
  stop(options?: StopOptions): Promise<void>;
}

/**
 * The one broker contract: publish a task to a topic, consume a topic as a group member, close.
 * Adapters are chosen by URL scheme (open-broker.ts). A publish that cannot reach the broker
 * rejects quickly; no adapter queues publishes in memory while disconnected (RELIABILITY R8).
 */
export interface Broker {
  /** `in-process`, `nats`, `redis`: for logs and bench labels. */
  readonly kind: string;
  publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void>;
  consume(options: ConsumeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
