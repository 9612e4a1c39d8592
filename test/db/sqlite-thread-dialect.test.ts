import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/connect.js';
import { SqliteThreadDialect } from '../../src/db/sqlite-thread-dialect.js';

interface Schema {
  items: { id: string; n: number; data: Buffer | null };
}

describe('SQLite writer thread (Kysely dialect)', () => {
  let dir: string;
  let file: string;
  let main: BetterSqlite3.Database;
  let db: Kysely<Schema>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-thread-'));
    file = join(dir, 'store.db');
    main = new BetterSqlite3(file);
    main.pragma('journal_mode = WAL');
    main.exec('create table items (id text primary key, n integer not null, data blob)');
    db = new Kysely<Schema>({ dialect: new SqliteThreadDialect({ file, busyTimeoutMs: 50 }) });
  });

  afterEach(async () => {
    await db.destroy();
    main.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes rows the main connection reads, blobs byte for byte, and reads them back', async () => {
    const blob = Buffer.from([0, 1, 2, 255]);
    const result = await db.insertInto('items').values([{ id: 'a', n: 1, data: blob }, { id: 'b', n: 2, data: null }]).executeTakeFirst();
    expect(result.numInsertedOrUpdatedRows).toBe(2n);
    expect(main.prepare('select id, n, data from items order by id').all()).toEqual([{ id: 'a', n: 1, data: blob }, { id: 'b', n: 2, data: null }]);
    const rows = await db.selectFrom('items').select(['id', 'n']).orderBy('id').execute();
    expect(rows).toEqual([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
  });

  it("rejects with SQLite's own error code, and the connection goes on working", async () => {
    await db.insertInto('items').values({ id: 'a', n: 1, data: null }).execute();
    const failure = await db.insertInto('items').values({ id: 'a', n: 2, data: null }).execute().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { code?: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    await db.insertInto('items').values({ id: 'b', n: 2, data: null }).execute();
    expect(main.prepare('select count(*) as c from items').get()).toEqual({ c: 2 });
  });

  it('rolls a failed transaction back whole', async () => {
    await db.insertInto('items').values({ id: 'a', n: 1, data: null }).execute();
    const failed = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 'b', n: 2, data: null }).execute();
      await trx.insertInto('items').values({ id: 'a', n: 3, data: null }).execute();
    });
    await expect(failed).rejects.toThrow();
    expect(main.prepare('select id from items').all()).toEqual([{ id: 'a' }]);
  });

  it("waits for another connection's lock on its own thread, so the event loop keeps turning, and reports SQLITE_BUSY after the timeout", async () => {
    main.exec('begin exclusive');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const failure = await db.insertInto('items').values({ id: 'a', n: 1, data: null }).execute().catch((error: unknown) => error);
    clearInterval(ticker);
    main.exec('rollback');
    expect((failure as { code?: string }).code).toBe('SQLITE_BUSY');
    // The statement waited 50 ms for the lock; timers on this thread ran meanwhile.
    expect(ticks).toBeGreaterThan(5);
    await db.insertInto('items').values({ id: 'a', n: 1, data: null }).execute();
    expect(main.prepare('select count(*) as c from items').get()).toEqual({ c: 1 });
  });

  it('takes statements in turn: concurrent writers never interleave inside a transaction', async () => {
    const writes = Array.from({ length: 20 }, (_, index) =>
      index % 2 === 0
        ? db.transaction().execute(async (trx) => {
            await trx.insertInto('items').values({ id: `t${index}`, n: index, data: null }).execute();
            await trx.updateTable('items').set({ n: index + 100 }).where('id', '=', `t${index}`).execute();
          })
        : db.insertInto('items').values({ id: `p${index}`, n: index, data: null }).execute(),
    );
    await Promise.all(writes);
    expect(main.prepare('select count(*) as c from items').get()).toEqual({ c: 20 });
    expect(main.prepare("select count(*) as c from items where id like 't%' and n >= 100").get()).toEqual({ c: 10 });
  });

  it("holds no lock while its transaction waits for the main thread's next statement", async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 't1', n: 1, data: null }).execute();
      // A synchronous write on the main thread meanwhile: had the thread taken the write lock at
      // the first statement, this would wait out the 5 s busy timeout and fail, and the thread
      // would wait for the main thread's next message, which cannot come while it waits.
      main.exec("insert into items (id, n) values ('main', 0)");
      await trx.insertInto('items').values({ id: 't2', n: 2, data: null }).execute();
    });
    expect(main.prepare('select id from items order by id').all()).toEqual([{ id: 'main' }, { id: 't1' }, { id: 't2' }]);
  });

  it('refuses a read inside a transaction (its statements only run at commit)', async () => {
    const reading = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 'a', n: 1, data: null }).execute();
      await trx.selectFrom('items').selectAll().execute();
    });
    await expect(reading).rejects.toThrow(/only writes/);
    expect(main.prepare('select count(*) as c from items').get()).toEqual({ c: 0 });
  });

  it("lets the store's own transaction read, see the thread commit, and still write (no SQLITE_BUSY_SNAPSHOT)", async () => {
    const store = await openStore({ url: undefined, sqlitePath: file, poolMax: 1 });
    // The thread is up before the race starts.
    await sql`select 1`.execute(db);
    try {
      const counted = await store.db.transaction().execute(async (trx) => {
        const before = await sql<{ c: number }>`select count(*) as c from items`.execute(trx);
        // The writer thread tries to commit between this transaction's read and its write.
        const background = db.insertInto('items').values({ id: 'thread', n: 1, data: null }).execute().then(
          () => 'written',
          (error: unknown) => (error as { code?: string }).code,
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
        await sql`insert into items (id, n) values ('main', 2)`.execute(trx);
        return { before: before.rows[0]?.c, background: await background };
      });
      // The store's transaction holds the write lock from its start: the thread waited and gave up
      // (the recorder retries such a batch later); the store's own write went through.
      expect(counted).toEqual({ before: 0, background: 'SQLITE_BUSY' });
      expect(main.prepare('select id from items').all()).toEqual([{ id: 'main' }]);
    } finally {
      await store.close();
    }
  });
});
