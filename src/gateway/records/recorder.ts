import type { FastifyBaseLogger } from 'fastify';
import type { NewRecord, RecordsRepository } from './records-repository.js';

export interface RecorderSettings {
  readonly flushIntervalMs: number;
  readonly batchSize: number;
  readonly maxQueued: number;
}

/** Work done on each flush besides writing rows (e.g. upstream counters). */
export type FlushHook = () => Promise<void>;

/**
 * Usage records are written off the hot path: `record()` only enqueues; a timer writes batches.
 * A failed write keeps the rows and retries on the next tick; `close()` flushes everything (R5).
 */
export class UsageRecorder {
  private queue: NewRecord[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private dropped = 0;

  constructor(
    private readonly repository: RecordsRepository,
    private readonly settings: RecorderSettings,
    private readonly options: { log: FastifyBaseLogger; onFlush?: FlushHook },
  ) {
    this.timer = setInterval(() => void this.flush(), settings.flushIntervalMs);
    this.timer.unref();
  }

  record(entry: NewRecord): void {
    if (this.queue.length >= this.settings.maxQueued) {
      // Bounded memory beats an unbounded queue while the store is down; say so loudly.
      this.queue.shift();
      this.dropped++;
      this.options.log.warn({ dropped: this.dropped }, 'usage record queue full; oldest record dropped');
    }
    this.queue.push(entry);
    if (this.queue.length >= this.settings.batchSize) void this.flush();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued so far; concurrent callers share one flush. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      await this.options.onFlush?.();
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.settings.batchSize);
        await this.repository.insertMany(batch);
        this.queue.splice(0, batch.length);
      }
    } catch (error) {
      this.options.log.warn({ err: error, queued: this.queue.length }, 'usage record write failed; will retry');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.queue.length > 0) await this.flush();
  }
}
