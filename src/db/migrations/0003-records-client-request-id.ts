import type { Kysely } from 'kysely';

/**
 * A record's id is the gateway's own from now on; the x-request-id a client sent is kept beside it.
 * Used as the id, a client's reused x-request-id (a retry, a fixed value) made a second request's
 * record conflict with the first one's and be dropped, with its tokens: any client could keep its
 * usage out of the records. No index: the records are looked up by time and by our own id.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('records').addColumn('client_request_id', 'text').execute();
}
