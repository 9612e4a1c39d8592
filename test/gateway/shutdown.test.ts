import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { spawnSwitchboard, waitForListening } from '../support/process.js';

describe('graceful shutdown (RELIABILITY R5)', () => {
  let upstream: ScriptedUpstream;
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('SIGTERM flushes every usage record, even with a long flush interval, and exits 0', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sb-sigterm-'));
    writeFileSync(
      join(cwd, 'config.yaml'),
      `gateway:\n  upstreams:\n    - endpoint: "${upstream.url}/v1"\n      sk: "sk-up"\n  records:\n    flushIntervalMs: 60000\n    batchSize: 10000\n`,
    );
    const child = spawnSwitchboard(['-addr', '127.0.0.1:0'], { cwd, env: { AUTHORIZATION: 'k1' } });
    const url = await waitForListening(child);
    const ids = Array.from({ length: 25 }, (_, index) => `term-${index}`);
    const statuses = await Promise.all(
      ids.map(async (id) => {
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer k1', 'content-type': 'application/json', 'x-request-id': id },
          body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: id }] }),
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const db = new BetterSqlite3(join(cwd, 'data/switchboard.sqlite'), { readonly: true });
    const rows = db.prepare('select client_request_id as id, outcome from records').all() as { id: string; outcome: string }[];
    db.close();
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    expect(rows.every((row) => row.outcome === 'ok')).toBe(true);
  });
});
