import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.js';
import type { UpstreamTable } from '../tables.js';

export type UpstreamRow = Selectable<UpstreamTable>;

export interface NewUpstream {
  readonly sk: string;
  readonly endpoint: string;
  readonly name?: string | undefined;
  readonly profile?: string | undefined;
  readonly weight?: number | undefined;
  readonly models?: readonly string[] | undefined;
}

/** Counter deltas accumulated on the hot path and written in one go. */
export interface UpstreamCounterDelta {
  readonly id: number;
  readonly success: number;
  readonly failed: number;
  readonly lastSuccessAt: number;
}

/** Upstreams stored in the database (seed 001 `openai_upstreams`), soft-deleted like the seed. */
export class UpstreamsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  listLive(): Promise<UpstreamRow[]> {
    return this.db.selectFrom('openai_upstreams').selectAll().where('deleted_at', 'is', null).orderBy('id').execute();
  }

  async create(upstream: NewUpstream): Promise<number> {
    const now = Date.now();
    const row = await this.db
      .insertInto('openai_upstreams')
      .values({
        created_at: now,
        updated_at: now,
        deleted_at: null,
        name: upstream.name ?? '',
        sk: upstream.sk,
        endpoint: upstream.endpoint,
        profile: upstream.profile ?? 'openai-compatible',
        weight: upstream.weight ?? 1,
        models: JSON.stringify(upstream.models ?? []),
        success_count: 0,
        failed_count: 0,
        last_call_success_time: 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Returns false when no live row has this id. */
  async update(id: number, upstream: NewUpstream): Promise<boolean> {
    const result = await this.db
      .updateTable('openai_upstreams')
      .set({
        sk: upstream.sk,
        endpoint: upstream.endpoint,
        updated_at: Date.now(),
        ...(upstream.name === undefined ? {} : { name: upstream.name }),
        ...(upstream.profile === undefined ? {} : { profile: upstream.profile }),
        ...(upstream.weight === undefined ? {} : { weight: upstream.weight }),
        ...(upstream.models === undefined ? {} : { models: JSON.stringify(upstream.models) }),
      })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Returns false when no live row has this id (the admin API answers success anyway, as the seed). */
  async softDelete(id: number): Promise<boolean> {
    const result = await this.db.updateTable('openai_upstreams').set({ deleted_at: Date.now() }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** All or nothing, so a failed flush can be retried without counting anything twice. */
  async applyCounters(deltas: readonly UpstreamCounterDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const delta of deltas) await this.applyCounter(trx, delta);
    });
  }

  private async applyCounter(db: Kysely<Database>, delta: UpstreamCounterDelta): Promise<void> {
    await db
      .updateTable('openai_upstreams')
      .set((eb) => ({
        success_count: eb('success_count', '+', delta.success),
        failed_count: eb('failed_count', '+', delta.failed),
        ...(delta.lastSuccessAt > 0 ? { last_call_success_time: delta.lastSuccessAt } : {}),
      }))
      .where('id', '=', delta.id)
      .execute();
  }
}
