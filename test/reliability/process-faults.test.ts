import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Database } from '../../src/db/database.js';
import { checkLedger, collectRows, printLedger } from '../support/ledger.js';
import { ledgerRequest, type ClientEntry } from '../support/ledger-client.js';
import { spawnSwitchboard, waitForListening } from '../support/process.js';
import { chunk, startScriptedUpstream, type ScriptedUpstream, type Step } from '../support/scripted-upstream.js';
import { TEST_KEY } from '../support/start-app.js';
import { chat } from './harness.js';

/** RELIABILITY F19 (SIGTERM with streams in flight) and F20 (SIGKILL, then restart reconciliation). */
const children = new Set<ChildProcess>();
const dirs: string[] = [];
let upstream: ScriptedUpstream;

beforeAll(async () => {
  upstream = await startScriptedUpstream({ name: 'a' });
  // Request content picks the script: `short` streams finish in 0.5 s, `long` ones would take 5 s.
  upstream.setFallback({
    kind: 'choose',
    pick: (request): Step => {
      const text = String(request.json?.messages?.[0]?.content ?? '');
      const count = text === 'long' ? 100 : 10;
      if (request.json?.stream !== true) return { kind: 'json', body: { id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'plain' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } };
      return { kind: 'sse', intervalMs: 50, events: [chunk('', { role: true }), ...Array.from({ length: count }, (_, index) => chunk(`w${index} `)), chunk(undefined, { finish: 'stop' })] };
    },
  });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await upstream.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startChild(cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnSwitchboard(['-addr', '127.0.0.1:0'], { cwd, env: { AUTHORIZATION: TEST_KEY } });
  children.add(child);
  child.stderr!.resume();
  return { child, url: await waitForListening(child) };
}

function workdir(config: Record<string, unknown>): string {
  const cwd = mkdtempSync(join(tmpdir(), 'sb-process-'));
  dirs.push(cwd);
  writeFileSync(join(cwd, 'config.yaml'), stringify({ gateway: { upstreams: [{ endpoint: `${upstream.url}/v1`, sk: 'sk-up-a' }], ...config }, server: { drainTimeoutMs: 3_000 } }));
  return cwd;
}

function openDb(cwd: string): Kysely<Database> {
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(join(cwd, 'data/switchboard.sqlite'), { readonly: true }) }) });
}

/** Resolves once every named request has had at least `events` SSE events written by the upstream. */
async function streamsUnderway(ids: readonly string[], events: number): Promise<void> {
  for (let poll = 0; poll < 200; poll++) {
    const started = ids.filter((id) => upstream.requests.some((request) => request.requestId === id && request.eventsSent >= events));
    if (started.length === ids.length) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('streams did not start in 5 s');
}

const served = (prefix: string) => upstream.requests.filter((request) => request.requestId?.startsWith(prefix) === true);

describe('gateway process faults', () => {
  it('F19: SIGTERM lets short streams finish, ends long ones with an error event, refuses new work, flushes every record, exits 0', async () => {
    const cwd = workdir({ records: { flushIntervalMs: 60_000, batchSize: 10_000 } });
    const { child, url } = await startChild(cwd);
    const ids = Array.from({ length: 20 }, (_, index) => `f19-${index}`);
    const pending = ids.map((id, index) => ledgerRequest({ url, id, body: chat(true, index % 2 === 0 ? 'short' : 'long'), deadlineMs: 15_000 }));
    await streamsUnderway(ids, 2);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const late = await Promise.all([0, 1, 2].map((index) => ledgerRequest({ url, id: `f19-late-${index}`, body: chat(false), deadlineMs: 5_000 })));
    const client: ClientEntry[] = [...(await Promise.all(pending)), ...late];
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);

    const db = openDb(cwd);
    const rows = await collectRows(db, { prefix: 'f19-', served: [], timeoutMs: 0 });
    await db.destroy();
    const verdict = printLedger('scenario f19', checkLedger({ client, upstream: served('f19-'), rows, allow: { refused: true } }));
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(10);
    expect(client.slice(0, 20).filter((entry) => entry.events.some((data) => data.includes('"shutdown"')))).toHaveLength(10);
    expect(rows.filter((row) => row.outcome === 'shutdown')).toHaveLength(10);
    expect(late.every((entry) => entry.end === 'refused' || entry.status === 503)).toBe(true);
  });

  it('F20: SIGKILL mid-stream; on restart the leftover pending rows become aborted; nothing else is lost', async () => {
    const cwd = workdir({ records: { flushIntervalMs: 100, heartbeatMs: 200 } });
    const first = await startChild(cwd);
    const done: ClientEntry[] = [];
    for (let index = 0; index < 5; index++) done.push(await ledgerRequest({ url: first.url, id: `f20-done-${index}`, body: chat(false) }));
    const ids = Array.from({ length: 8 }, (_, index) => `f20-${index}`);
    const pending = ids.map((id) => ledgerRequest({ url: first.url, id, body: chat(true, 'long'), deadlineMs: 15_000 }));
    await streamsUnderway(ids, 3);
    // Two flush intervals: the completed rows and the markers of the streams are on disk.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const killed = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    await killed;
    const client = [...done, ...(await Promise.all(pending))];

    const before = openDb(cwd);
    const atKill = await collectRows(before, { prefix: 'f20-', served: [], timeoutMs: 0 });
    await before.destroy();
    expect(atKill.filter((row) => row.outcome === 'pending').map((row) => row.id).sort()).toEqual([...ids].sort());

    const second = await startChild(cwd);
    const db = openDb(cwd);
    let rows = atKill;
    for (let poll = 0; poll < 200 && rows.some((row) => row.outcome === 'pending'); poll++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      rows = await collectRows(db, { prefix: 'f20-', served: [], timeoutMs: 0 });
    }
    await db.destroy();
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');

    const verdict = printLedger('scenario f20', checkLedger({ client, upstream: served('f20-'), rows, allow: { reset: true } }));
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(5);
    expect(verdict.count('reset')).toBe(8);
    expect(rows.filter((row) => row.outcome === 'aborted').map((row) => row.id).sort()).toEqual([...ids].sort());
  });
});
