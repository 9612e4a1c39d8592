import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDoc, api, countRows, newKb, newUser, retrieve, startRagApp, upload, type ChatTestApp } from '../rag/rag-client.js';
import { forEachStore, type StoreKind } from '../support/stores.js';

/**
 * RELIABILITY F24: the store refuses an upload's write. The database itself raises the error a full
 * disk gives (a trigger: SQLite's SQLITE_FULL text, PostgreSQL's SQLSTATE 53100 disk_full), so the
 * failure comes from the real server through the real driver.
 */
async function fillTheDisk(app: ChatTestApp, store: StoreKind): Promise<void> {
  const db = app.app.store.db;
  if (store === 'sqlite') {
    await sql`CREATE TRIGGER f24_disk_full BEFORE INSERT ON chunks BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`.execute(db);
    return;
  }
  await sql`CREATE FUNCTION f24_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`.execute(db);
  await sql`CREATE TRIGGER f24_disk_full BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION f24_disk_full()`.execute(db);
}

async function freeTheDisk(app: ChatTestApp, store: StoreKind): Promise<void> {
  const db = app.app.store.db;
  await sql`DROP TRIGGER f24_disk_full${store === 'sqlite' ? sql`` : sql` ON chunks`}`.execute(db);
  if (store === 'postgres') await sql`DROP FUNCTION f24_disk_full()`.execute(db);
}

forEachStore((store) => {
  describe('F24: upload storage failure', () => {
    let app: ChatTestApp;

    beforeAll(async () => {
      app = await startRagApp({ store });
    });
    afterAll(async () => {
      await app.close();
    });

    it("answers the seed's 500, keeps nothing of the failed document, leaks no internals, and recovers", async () => {
      const { token } = await newUser(app);
      const kbId = await newKb(app, token);
      await addDoc(app, { token, kbId, fileName: 'before.txt', data: 'Lighthouses guide ships along the rocky coast at night.' });
      const chunksBefore = await countRows(app, 'chunks', kbId);

      await fillTheDisk(app, store);
      const failed = await upload(app, { token, kbId, fileName: 'during.txt', data: 'Volcanoes erupt when magma rises through the crust.' });
      expect(failed.status).toBe(500);
      expect(failed.body.error).toMatch(/^上传文档失败: /);
      expect(failed.body.error).not.toMatch(/disk|space|sqlite|postgres|chunks|trigger/i);
      const listed = await api(app, { path: `/api/rag/doc/list?kb_id=${kbId}`, token });
      expect(listed.body.docs.map((doc: { doc_name: string }) => doc.doc_name)).toEqual(['before.txt']);
      expect(await countRows(app, 'chunks', kbId)).toBe(chunksBefore);
      expect(await countRows(app, 'docs', kbId)).toBe(1);

      await freeTheDisk(app, store);
      const retried = await upload(app, { token, kbId, fileName: 'during.txt', data: 'Volcanoes erupt when magma rises through the crust.' });
      expect(retried.status).toBe(200);
      const found = await retrieve(app, { token, kbId, query: 'volcano magma eruption', topK: 1 });
      expect(found.body.results[0].content).toContain('magma');
    });
  });
});
