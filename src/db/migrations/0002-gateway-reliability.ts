import { sql, type Kysely } from 'kysely';

/**
 * RELIABILITY F20: a request in flight longer than one recorder flush leaves a `pending` row
 * tagged with its instance; instances heartbeat, and the pending rows of a silent (killed)
 * instance are marked `aborted`. R4: a usage count the gateway made itself is flagged estimated.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('records').addColumn('instance_id', 'text').execute();
  await db.schema.alterTable('records').addColumn('usage_estimated', 'integer', (column) => column.notNull().defaultTo(0)).execute();
  // Partial index: only in-flight rows are ever looked up by instance.
  await db.schema
    .createIndex('idx_records_pending')
    .on('records')
    .column('instance_id')
    .where(sql.ref('outcome'), '=', 'pending')
    .execute();
  await db.schema
    .createTable('gateway_instances')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('started_at', 'bigint', (column) => column.notNull())
    .addColumn('heartbeat_at', 'bigint', (column) => column.notNull())
    .execute();
}
