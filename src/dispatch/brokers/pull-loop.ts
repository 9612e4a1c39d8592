import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumeOptions, Delivery, StopOptions, Subscription } from './broker.js';

/** After a failed fetch (broker away), wait this long before the next one. */
const FETCH_RETRY_MS = 250;
/** Progress reports never run more often than this, whatever ackWait is. */
const MIN_HEARTBEAT_MS = 50;

/** What an adapter supplies: a bounded wait for up to `max` deliveries of its group. */
export interface PullSource {
  /** Yields up to `max` deliveries as they arrive, returning after about a second without any. */
  fetch(max: number, signal: AbortSignal): AsyncIterable<Delivery>;
  /** Releases what the source holds (a blocking connection, a consumer registration). */
  close(): Promise<void>;
}

/**
 * The consume loop every adapter shares: keeps at most `concurrency` handlers running, reports
 * progress while each runs, acks after success and naks after failure (at-least-once), and drops
 * a message delivered more than maxDeliver times without handling it (RELIABILITY F20).
 */
export class PullLoop implements Subscription {
  private readonly active = new Set<Promise<void>>();
  private readonly heartbeats = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private isStopped = false;
  private isAbandoned = false;
  private wakeUp: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(
    private readonly source: PullSource,
    private readonly options: ConsumeOptions,
  ) {
    this.loop = this.run();
  }

  /** Read through a method: stop() flips it while the loop awaits. */
  private abandoned(): boolean {
    return this.isAbandoned;
  }

  private stopped(): boolean {
    return this.isStopped;
  }

  private report(error: unknown): void {
    if (!this.isAbandoned) this.options.onError?.(error);
  }

  private async run(): Promise<void> {
    while (!this.isStopped) {
      const free = this.options.concurrency - this.active.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        continue;
      }
      try {
        for await (const delivery of this.source.fetch(free, this.abort.signal)) {
          if (this.abandoned()) return;
          this.start(delivery);
        }
      } catch (error) {
        if (this.stopped()) return;
        this.report(error);
        await sleep(FETCH_RETRY_MS, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  private start(delivery: Delivery): void {
    if (delivery.deliveryCount > this.options.maxDeliver) {
      delivery.ack().catch((error: unknown) => this.report(error));
      return;
    }
    const heartbeat = setInterval(() => {
      if (!this.isAbandoned) delivery.working().catch((error: unknown) => this.report(error));
    }, Math.max(MIN_HEARTBEAT_MS, Math.floor(this.options.ackWaitMs / 3)));
    this.heartbeats.add(heartbeat);
    const task: Promise<void> = this.options
      .handle(delivery.payload, { deliveryCount: delivery.deliveryCount })
      .then(
        () => (this.isAbandoned ? undefined : delivery.ack()),
        (error: unknown) => {
          this.report(error);
          return this.isAbandoned ? undefined : delivery.nak();
        },
      )
      .catch((error: unknown) => this.report(error))
      .finally(() => {
        clearInterval(heartbeat);
        this.heartbeats.delete(heartbeat);
        this.active.delete(task);
        this.wakeUp?.();
        this.wakeUp = undefined;
      });
    this.active.add(task);
  }

  async stop(options: StopOptions = {}): Promise<void> {
    this.isStopped = true;
    if (options.abandon) this.isAbandoned = true;
    this.abort.abort();
    this.wakeUp?.();
    await this.loop;
    if (this.isAbandoned) {
      for (const heartbeat of this.heartbeats) clearInterval(heartbeat);
      this.heartbeats.clear();
    } else {
      await Promise.allSettled([...this.active]);
    }
    await this.source.close().catch((error: unknown) => this.report(error));
  }
}

/** An adapter's running consume loops: started by `consume`, all stopped by the adapter's `close`. */
export class PullLoops {
  private readonly loops = new Set<PullLoop>();

  start(source: PullSource, options: ConsumeOptions): Subscription {
    const loop = new PullLoop(source, options);
    this.loops.add(loop);
    return {
      stop: async (stopOptions) => {
        this.loops.delete(loop);
        await loop.stop(stopOptions);
      },
    };
  }

  async stopAll(): Promise<void> {
    const loops = [...this.loops];
    this.loops.clear();
    await Promise.all(loops.map((loop) => loop.stop()));
  }
}
