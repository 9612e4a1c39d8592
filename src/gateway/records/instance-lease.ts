import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/database.js';
import { nowMs } from '../../db/dialect.js';

export interface InstanceLeaseOptions {
  readonly heartbeatMs: number;
  readonly log: FastifyBaseLogger;
}

/** An instance that missed this many heartbeats is dead (killed, or its host is gone). */
const MISSED_BEATS = 3;
/** Guards against a zero interval turning the heartbeat into a busy loop. */
const MIN_HEARTBEAT_MS = 50;

/**
 * This instance's row in `gateway_instances`, renewed every heartbeat with the database clock (so
 * instances on different hosts agree). Each beat also reconciles: `pending` records of instances
 * that stopped beating — a SIGKILL, an OOM kill, a lost host — become `aborted` (RELIABILITY F20,
 * R5), so no request stays "in flight" forever in the request log.
 */
export class InstanceLease {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly heartbeatMs: number;
  /** The database's clock, so instances on hosts with skewed clocks still agree. */
  private readonly now: RawBuilder<number>;

  constructor(private readonly db: Kysely<Database>, private readonly options: InstanceLeaseOptions) {
    this.heartbeatMs = Math.max(MIN_HEARTBEAT_MS, options.heartbeatMs);
    this.now = nowMs(db as unknown as Kysely<unknown>);
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Renews our row (re-creating it if another instance took us for dead), then reconciles. */
  async beat(): Promise<void> {
    try {
      const result = await this.db.updateTable('gateway_instances').set({ heartbeat_at: this.now }).where('id', '=', this.id).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        await this.db.insertInto('gateway_instances').values({ id: this.id, started_at: Date.now(), heartbeat_at: this.now }).execute();
      }
      const aborted = await this.reconcile();
      if (aborted > 0) this.options.log.warn({ aborted }, 'requests of a stopped instance marked aborted');
      this.failures = 0;
    } catch (error) {
      this.failures++;
      if ((this.failures & (this.failures - 1)) === 0) this.options.log.warn({ err: error, failures: this.failures }, 'instance heartbeat failed');
    }
  }

  /** Marks `pending` rows of dead instances `aborted`; returns how many. */
  async reconcile(): Promise<number> {
    const cutoff = sql<number>`${this.now} - ${this.heartbeatMs * MISSED_BEATS}`;
    const alive = this.db.selectFrom('gateway_instances').select('id').where('heartbeat_at', '>=', cutoff);
    const result = await this.db
      .updateTable('records')
      .set({ outcome: 'aborted', status: 502, error_class: 'instance_lost' })
      .where('outcome', '=', 'pending')
      .where((eb) => eb.or([eb('instance_id', 'is', null), eb('instance_id', 'not in', alive)]))
      .executeTakeFirst();
    await this.db.deleteFrom('gateway_instances').where('heartbeat_at', '<', cutoff).execute();
    return Number(result.numUpdatedRows);
  }

  /**
   * Graceful stop, after the recorder's last flush: any marker left (a request that never settled)
   * is ours to close now, then we leave the table.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.db
        .updateTable('records')
        .set({ outcome: 'aborted', status: 503, error_class: 'shutdown' })
        .where('outcome', '=', 'pending')
        .where('instance_id', '=', this.id)
        .execute();
      await this.db.deleteFrom('gateway_instances').where('id', '=', this.id).execute();
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not release the instance lease; the next instance will reconcile');
    }
  }
}
