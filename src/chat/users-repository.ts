import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/database.js';
import type { UsersTable } from './tables.js';

export type UserRow = Selectable<UsersTable>;

/** Chat users. Lookups only ever return live (not deleted) users. */
export class UsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The new user's id, or undefined when the username is taken (deleted users keep their name). */
  async create(username: string, passwordHash: string): Promise<number | undefined> {
    const row = await this.db
      .insertInto('users')
      .values({ username, password_hash: passwordHash, created_at: Date.now(), deleted_at: null })
      .onConflict((conflict) => conflict.column('username').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  }

  findByUsername(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).where('deleted_at', 'is', null).executeTakeFirst();
  }

  async isActive(id: number): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return row !== undefined;
  }

  /** Marks the user deleted; its tokens stop working. False when there was no live user. */
  async softDelete(id: number): Promise<boolean> {
    const result = await this.db.updateTable('users').set({ deleted_at: Date.now() }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
