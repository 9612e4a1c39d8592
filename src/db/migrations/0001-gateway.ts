import { sql, type Kysely } from 'kysely';
import { withSerialId } from '../dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('config_kvs')
    .addColumn('key', 'text', (column) => column.primaryKey())
    .addColumn('value', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();

  await withSerialId(db, db.schema.createTable('openai_upstreams'))
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .addColumn('deleted_at', 'bigint')
    .addColumn('name', 'text', (column) => column.notNull().defaultTo(''))
    .addColumn('sk', 'text', (column) => column.notNull())
    .addColumn('endpoint', 'text', (column) => column.notNull())
    .addColumn('profile', 'text', (column) => column.notNull().defaultTo('openai-compatible'))
    .addColumn('weight', 'integer', (column) => column.notNull().defaultTo(1))
    .addColumn('models', 'text', (column) => column.notNull().defaultTo('[]'))
    .addColumn('success_count', 'bigint', (column) => column.notNull().defaultTo(0))
    .addColumn('failed_count', 'bigint', (column) => column.notNull().defaultTo(0))
    .addColumn('last_call_success_time', 'bigint', (column) => column.notNull().defaultTo(0))
    .execute();
  // Seed 001's unique (sk, endpoint) index also covered deleted rows, so a deleted pair could never
  // come back; ours only covers live rows.
  await db.schema
    .createIndex('idx_sk_endpoint')
    .on('openai_upstreams')
    .columns(['sk', 'endpoint'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();

  await withSerialId(db, db.schema.createTable('gateway_keys'))
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('key_hash', 'text', (column) => column.notNull().unique())
    .addColumn('key_prefix', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('records')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('ip', 'text', (column) => column.notNull())
    .addColumn('key_id', 'text')
    .addColumn('method', 'text', (column) => column.notNull())
    .addColumn('path', 'text', (column) => column.notNull())
    .addColumn('model', 'text')
    .addColumn('stream', 'integer', (column) => column.notNull())
    .addColumn('target_id', 'text')
    .addColumn('attempts', 'integer', (column) => column.notNull())
    .addColumn('status', 'integer', (column) => column.notNull())
    .addColumn('outcome', 'text', (column) => column.notNull())
    .addColumn('error_class', 'text')
    .addColumn('ttfb_ms', 'integer')
    .addColumn('elapsed_ms', 'integer', (column) => column.notNull())
    .addColumn('prompt_tokens', 'integer')
    .addColumn('completion_tokens', 'integer')
    .addColumn('total_tokens', 'integer')
    .addColumn('body', 'text', (column) => column.notNull())
    .addColumn('response', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('idx_records_created_at').on('records').column('created_at').execute();
}
