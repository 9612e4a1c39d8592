import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageRecorder } from '../../src/gateway/records/recorder.js';
import { RecordsRepository, type NewRecord } from '../../src/gateway/records/records-repository.js';
import { packRows, unpackRows } from '../../src/gateway/records/records-thread.js';
import { chunkSizes } from '../../src/gateway/records/terminal-insert.js';
import { newRequestId } from '../../src/platform/request-id.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { forEachStore } from '../support/stores.js';

function row(id: string, outcome: string): NewRecord {
  return {
    id, created_at: Date.now(), ip: '127.0.0.1', key_id: 'cfg:test', method: 'POST', path: '/v1/chat/completions', model: 'gpt-test', stream: 0,
    target_id: 'upstream:1', attempts: 1, status: 200, outcome, error_class: null, ttfb_ms: 3, elapsed_ms: 5,
    prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, usage_estimated: 0, body: '', response: `text of ${id}`, instance_id: 'test',
    client_request_id: null,
  };
}

describe('rows cross to the records thread unchanged', () => {
  it('every column comes back as it went, with each row its own kept answer', () => {
    // A value no other column has in every column, so a column read from its neighbour's place shows.
    const full: NewRecord = {
      id: 'id-1', created_at: 1_700_000_000_001, ip: '10.0.0.2', key_id: 'key-3', method: 'PUT', path: '/v1/path-5', model: 'model-6', stream: 1,
      target_id: 'target-8', attempts: 9, status: 410, outcome: 'outcome-11', error_class: 'class-12', ttfb_ms: 13, elapsed_ms: 14,
      prompt_tokens: 15, completion_tokens: 16, total_tokens: 17, usage_estimated: 1, body: 'body-19', response: 'response-20', instance_id: 'instance-21',
      client_request_id: 'client-22',
    };
    const sparse: NewRecord = { ...row('id-2', 'ok'), key_id: null, error_class: null, ttfb_ms: null, prompt_tokens: null, completion_tokens: null, total_tokens: null, instance_id: null };
    const answers = ['{"usage":{"total_tokens":3},"text":"é ✓ 😀"}', undefined];
    const { rows, bodies } = unpackRows(packRows([full, sparse], answers));
    expect(rows).toEqual([full, sparse]);
    expect(bodies).toEqual(answers);
    // Same keys in the same order: the thread's loops over rows meet one object shape.
    expect(Object.keys(rows[0] ?? {})).toEqual(Object.keys(rows[1] ?? {}));
  });
});

describe('record batches are split into a few statement shapes', () => {
  it('any batch size is covered exactly, by full chunks of 100 and power-of-two remainders', () => {
    expect(chunkSizes(237)).toEqual([100, 100, 32, 4, 1]);
    expect(chunkSizes(0)).toEqual([]);
    const shapes = new Set<number>();
    for (let total = 1; total <= 1_000; total++) {
      const sizes = chunkSizes(total);
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(total);
      for (const size of sizes) shapes.add(size);
    }
    expect([...shapes].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32, 64, 100]);
  });
});

forEachStore((store) => {
  describe('terminal rows of any batch size are written once each', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({ store });
    });
    afterAll(async () => {
      await app.close();
    });

    it('writes batches of 1, 37, 99 and 237 rows; a batch retried whole changes nothing; a pending marker is replaced', async () => {
      const db = app.app.store.db;
      const repository = new RecordsRepository(db);
      for (const size of [1, 37, 99, 237]) {
        const rows = Array.from({ length: size }, () => row(newRequestId(), 'ok'));
        await repository.insertMany(rows);
        await repository.insertMany(rows.map((entry) => ({ ...entry, outcome: 'upstream_reset' })));
        const stored = await db.selectFrom('records').select(['id', 'outcome', 'response']).where('id', 'in', rows.map((entry) => entry.id)).execute();
        expect(stored).toHaveLength(size);
        expect(new Set(stored.map((entry) => entry.outcome))).toEqual(new Set(['ok']));
        expect(stored.find((entry) => entry.id === rows[size - 1]?.id)?.response).toBe(`text of ${rows[size - 1]?.id ?? ''}`);
      }
      const id = newRequestId();
      await repository.insertPending([row(id, 'pending')]);
      await repository.insertMany([row(id, 'ok')]);
      expect(await db.selectFrom('records').select('outcome').where('id', '=', id).executeTakeFirst()).toEqual({ outcome: 'ok' });
    });

    it('a full batch writes whole batches only; the rest waits for the timer or flush(), and flush() during a drain writes it all', async () => {
      const db = app.app.store.db;
      const countOf = async (ids: readonly string[]) => (await db.selectFrom('records').select('id').where('id', 'in', ids).execute()).length;
      const recorder = new UsageRecorder(new RecordsRepository(db), { flushIntervalMs: 60_000, batchSize: 10, maxQueued: 1_000 }, { log: app.app.server.log });
      try {
        const first = Array.from({ length: 25 }, () => newRequestId());
        for (const id of first) recorder.record(row(id, 'ok'));
        await vi.waitFor(async () => expect(await countOf(first)).toBe(20));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await countOf(first)).toBe(20);
        expect(recorder.pending).toBe(5);
        await recorder.flush();
        expect(await countOf(first)).toBe(25);

        // flush() while a batch-triggered drain is under way: that drain goes on to the end.
        const second = Array.from({ length: 13 }, () => newRequestId());
        for (const id of second) recorder.record(row(id, 'ok'));
        await recorder.flush();
        expect(await countOf(second)).toBe(13);
        expect(recorder.pending).toBe(0);
      } finally {
        await recorder.close();
      }
    });

    it('more requests in flight than one statement can carry (SQLite: 32,766 parameters) all get their pending marker, then their terminal row', async () => {
      const db = app.app.store.db;
      const recorder = new UsageRecorder(new RecordsRepository(db), { flushIntervalMs: 60_000, batchSize: 500, maxQueued: 10_000 }, { log: app.app.server.log });
      try {
        // 3,100 rows of 22 columns: past SQLite's limit and PostgreSQL's 65,535 alike.
        const ids = Array.from({ length: 3_100 }, () => newRequestId());
        const startedAt = Date.now() - 120_000;
        const markers = ids.map((id) => recorder.begin({ id, createdAt: startedAt, buildRow: () => ({ ...row(id, 'pending'), created_at: startedAt }) }));
        await recorder.flush();
        const outcomes = async () => {
          const stored = await db.selectFrom('records').select(['outcome', db.fn.countAll<number>().as('count')]).where('created_at', '=', startedAt).groupBy('outcome').execute();
          return Object.fromEntries(stored.map((entry) => [entry.outcome, entry.count]));
        };
        expect(await outcomes()).toEqual({ pending: 3_100 });
        ids.forEach((id, index) => recorder.record({ ...row(id, 'ok'), created_at: startedAt }, markers[index]));
        await recorder.flush();
        expect(await outcomes()).toEqual({ ok: 3_100 });
        expect(recorder.inFlight).toBe(0);
      } finally {
        await recorder.close();
      }
    });

    it('a row the database refuses for its own values is dropped and logged by id; the rest of its batch and the batches after it are written', async () => {
      const db = app.app.store.db;
      const recorder = new UsageRecorder(new RecordsRepository(db), { flushIntervalMs: 60_000, batchSize: 10, maxQueued: 1_000 }, { log: app.app.server.log });
      try {
        const good = Array.from({ length: 19 }, () => newRequestId());
        const bad = newRequestId();
        for (const id of good.slice(0, 4)) recorder.record(row(id, 'ok'));
        // A NOT NULL column left null: refused by SQLite and PostgreSQL alike, on every retry.
        recorder.record({ ...row(bad, 'ok'), ip: null as unknown as string, response: 'secret prompt text' });
        for (const id of good.slice(4)) recorder.record(row(id, 'ok'));
        await recorder.flush();
        const stored = await db.selectFrom('records').select('id').where('id', 'in', [...good, bad]).execute();
        expect(new Set(stored.map((entry) => entry.id))).toEqual(new Set(good));
        expect(recorder.pending).toBe(0);
        const refusals = app.logs.filter((line) => line.includes('usage record refused by the database'));
        expect(refusals).toHaveLength(1);
        expect(refusals[0]).toContain(bad);
        expect(refusals[0]).not.toContain('secret prompt text');
      } finally {
        await recorder.close();
      }
    });
  });
});
