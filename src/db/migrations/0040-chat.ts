import type { Kysely } from 'kysely';
import { withSerialId } from '../dialect.js';

/** Chat users, conversations and messages (SEEDS-SPEC §3.2, with our [REC] fixes). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await withSerialId(db, db.schema.createTable('users'))
    .addColumn('username', 'text', (column) => column.notNull().unique())
    .addColumn('password_hash', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'bigint', (column) => column.primaryKey())
    .addColumn('owner', 'text', (column) => column.notNull())
    .addColumn('user_id', 'bigint', (column) => column.references('users.id').onDelete('cascade'))
    .addColumn('title', 'text', (column) => column.notNull())
    .addColumn('model', 'text', (column) => column.notNull())
    .addColumn('api_key_enc', 'text')
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('idx_conversations_owner').on('conversations').columns(['owner', 'created_at']).execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('conversation_id', 'bigint', (column) => column.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('parent_id', 'text')
    .addColumn('seq', 'integer', (column) => column.notNull())
    .addColumn('role', 'text', (column) => column.notNull())
    .addColumn('content', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .execute();
  // Unique: two writers racing on one conversation cannot both take the same message_id.
  await db.schema.createIndex('idx_messages_conversation_seq').on('messages').columns(['conversation_id', 'seq']).unique().execute();
}
