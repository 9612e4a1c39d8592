import type { FastifyBaseLogger } from 'fastify';
import { isRowValueError } from '../../db/driver-errors.js';
import { SlotList } from '../../platform/slot-list.js';
import type { NewRecord, RecordsRepository } from './records-repository.js';

/** Where batches go: the repository itself, or the records thread that runs it (records-thread.ts). */
export type RecordSink = Pick<RecordsRepository, 'insertMany' | 'insertPending'>;

/** A terminal row and, for a plain answer kept unparsed, that answer (finish-records.ts). */
interface QueuedRecord {
  readonly row: NewRecord;
  readonly body: string | undefined;
}

export interface RecorderSettings {
  readonly flushIntervalMs: number;
  readonly batchSize: number;
  readonly maxQueued: number;
}

/** Work done on each flush besides writing rows (e.g. upstream counters). */
export type FlushHook = () => Promise<void>;

export interface RecorderOptions {
  readonly log: FastifyBaseLogger;
  /** Stamped on every row, so a killed instance's `pending` rows can be found (F20). */
  readonly instanceId?: string | undefined;
  readonly onFlush?: FlushHook | undefined;
}

/** A request in flight: the marker row is built only if a flush finds it still running. */
export interface PendingStart {
  readonly id: string;
  readonly createdAt: number;
  readonly buildRow: () => NewRecord;
}

interface PendingMarker {
  readonly start: PendingStart;
  written: boolean;
  /** Where `markers` holds it. */
  slot: number;
}

/** What `begin` hands out, to be given back to `record` with the request's terminal row. */
export type RecordMarker = Readonly<PendingMarker>;

/** A store that keeps failing is retried less and less often, up to this interval. */
const MAX_BACKOFF_MS = 30_000;
/** `close()` tries this many times (a lock may be about to go away) before giving up. */
const CLOSE_ATTEMPTS = 4;

/**
 * Usage records are written off the hot path: `record()` only enqueues; a timer writes batches.
 * A failed write keeps the rows and retries with backoff; `close()` flushes everything (R5).
 * A request still running at a flush, older than half a flush interval, gets a `pending` marker
 * row, replaced by its terminal row later; after a hard kill those markers are what
 * reconciliation turns into `aborted`. Short requests never write a marker, so a SIGKILL loses
 * at most the requests of the last 1.5 flush intervals (R5), at almost no cost per request.
 */
export class UsageRecorder {
  private queue: QueuedRecord[] = [];
  /** Slots, not a Map by id: one add and one delete per request is the churn slot-list.ts is about. */
  private readonly markers = new SlotList<PendingMarker>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  /** Rows at the head of the queue that a timer tick, flush() or close() asked to be written now, whole batch or not. */
  private owed = 0;
  private dropped = 0;
  /** Rows the database refused for their own values (dropped, each logged). */
  private refused = 0;
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly repository: RecordSink,
    private readonly settings: RecorderSettings,
    private readonly options: RecorderOptions,
  ) {
    this.timer = setInterval(() => {
      if (Date.now() >= this.retryAt) void this.flush();
    }, settings.flushIntervalMs);
    this.timer.unref();
  }

  /** A request started; its marker is written only if it is still running at the next flush. */
  begin(start: PendingStart): RecordMarker | undefined {
    if (this.markers.size >= this.settings.maxQueued) return undefined;
    const marker: PendingMarker = { start, written: false, slot: -1 };
    marker.slot = this.markers.add(marker);
    return marker;
  }

  /**
   * The terminal row of a request, with the marker `begin` gave for it (none if it was not called)
   * and its plain answer when that was kept unparsed (its usage and text are read when written).
   */
  record(entry: NewRecord, marker?: RecordMarker, body?: string): void {
    if (marker) this.markers.remove(marker.slot, marker);
    entry.instance_id = this.options.instanceId ?? null;
    if (this.queue.length >= this.settings.maxQueued) {
      // Bounded memory beats an unbounded queue while the store is down; say so loudly.
      this.queue.shift();
      this.dropped++;
      this.options.log.warn({ dropped: this.dropped }, 'usage record queue full; oldest record dropped');
    }
    this.queue.push({ row: entry, body });
    if (this.queue.length >= this.settings.batchSize && Date.now() >= this.retryAt) void this.startDrain();
  }

  /** Terminal rows not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Requests in flight (markers, written or not). */
  get inFlight(): number {
    return this.markers.size;
  }

  /** Writes everything queued so far; a drain under way is asked to include it. */
  flush(): Promise<void> {
    this.owed = Math.max(this.owed, this.queue.length);
    if (!this.flushing) return this.startDrain();
    // The drain may have passed its last check already: whatever it left is written by one more.
    return this.flushing.then(() => (this.owed > 0 ? this.startDrain() : undefined));
  }

  /**
   * Writes whole batches, and the rows owed. A drain that went on until the queue was empty never
   * ended under load: each write took a few milliseconds, a few rows arrived meanwhile, and most
   * transactions held 12-24 rows, each paying a commit, a round trip to the writer thread and a
   * rewrite of the same index pages (BENCHMARKS.md, gateway section). Rows queued after a flush
   * began wait for a full batch or the next tick: at most one flush interval, as before (R5).
   */
  private startDrain(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      await this.options.onFlush?.();
    } catch (error) {
      this.options.log.warn({ err: error }, 'flush hook failed; will retry');
    }
    try {
      const bornBefore = Date.now() - this.settings.flushIntervalMs / 2;
      const markers = this.markers.values().filter((marker) => !marker.written && marker.start.createdAt <= bornBefore);
      if (markers.length > 0) {
        await this.repository.insertPending(
          markers.map((marker) => {
            const row = marker.start.buildRow();
            row.instance_id = this.options.instanceId ?? null;
            return row;
          }),
        );
        for (const marker of markers) marker.written = true;
      }
      while (this.queue.length > 0 && (this.owed > 0 || this.queue.length >= this.settings.batchSize)) {
        const batch = this.queue.splice(0, this.settings.batchSize);
        try {
          await this.repository.insertMany(
            batch.map((queued) => queued.row),
            batch.map((queued) => queued.body),
          );
        } catch (error) {
          if (!isRowValueError(error)) {
            this.queue.unshift(...batch);
            throw error;
          }
          await this.writeRowByRow(batch);
        }
        this.owed = Math.max(0, this.owed - batch.length);
      }
      // A full queue drops rows from its head, which may have been owed: they are gone.
      this.owed = Math.min(this.owed, this.queue.length);
      this.failures = 0;
      this.retryAt = 0;
    } catch (error) {
      this.failures++;
      this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, this.settings.flushIntervalMs * 2 ** (this.failures - 1));
      // One line per doubling of the backoff, not one per tick, while the store is down.
      if ((this.failures & (this.failures - 1)) === 0) {
        this.options.log.warn({ err: error, queued: this.queue.length, failures: this.failures }, 'usage record write failed; will retry');
      }
    }
  }

  /**
   * A batch the database refused for one row's values: each row alone, so the others are written
   * and the refused one is dropped (a retry would fail the same way, holding back every record
   * after it). A failure that is not about a row's values puts the rest back for the next retry.
   */
  private async writeRowByRow(queued: readonly QueuedRecord[]): Promise<void> {
    for (const [index, { row, body }] of queued.entries()) {
      try {
        await this.repository.insertMany([row], [body]);
      } catch (error) {
        if (!isRowValueError(error)) {
          this.queue.unshift(...queued.slice(index));
          throw error;
        }
        this.refused++;
        // By id: PostgreSQL's error detail quotes the row, and the logger redacts it (logger.ts).
        this.options.log.error({ err: error, requestId: row.id, refused: this.refused }, 'usage record refused by the database; dropped');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 0; attempt < CLOSE_ATTEMPTS; attempt++) {
      await this.flush();
      if (this.queue.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
    this.options.log.error({ lost: this.queue.length }, 'usage records could not be written before exit');
  }
}
