import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postChat } from '../support/records.js';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { AUTH, startApp, type TestApp } from '../support/start-app.js';

const json = { 'content-type': 'application/json' };

describe('admin changes and the live upstream pool', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  const admin = (path: string, init: { method?: string; body?: string } = {}) => fetch(`${app.url}${path}`, { ...init, headers: { ...AUTH, ...json } });
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp();
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('PUT /admin/upstreams/:id does not cut a stream already running on that upstream', async () => {
    expect((await admin('/admin/upstreams', { method: 'POST', body: JSON.stringify({ SK: 'sk-inflight-0123456789', Endpoint: `${upstream.url}/v1` }) })).status).toBe(200);
    const id = ((await (await admin('/admin/upstreams')).json()) as { ID: number }[])[0]!.ID;
    upstream.enqueue({ kind: 'sse', events: ['a', 'b', 'c', 'd', 'e', 'f'].map((word) => chunk(word)), intervalMs: 100 });
    const response = await postChat(app, { stream: true });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    const put = await admin(`/admin/upstreams/${id}`, { method: 'PUT', body: JSON.stringify({ SK: 'sk-inflight-0123456789', Endpoint: `${upstream.url}/v1`, Weight: 5 }) });
    expect(put.status).toBe(200);
    let text = new TextDecoder().decode(first.value);
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      text += new TextDecoder().decode(next.value);
    }
    expect(text).toContain('data: [DONE]');
    expect(text).not.toContain('upstream_reset');
  });

  it('a stored upstream that cannot be used (edited by hand to ftp://) is skipped with one warning, and the others keep changing', async () => {
    await app.app.store.db
      .insertInto('openai_upstreams')
      .values({ created_at: 1, updated_at: 1, deleted_at: null, name: '', sk: 'sk-ftp-0123456789abcdef', endpoint: 'ftp://user:hunter2-pass@files.example.test/v1', profile: 'openai-compatible', weight: 1, models: '[]', success_count: 0, failed_count: 0, last_call_success_time: 0 })
      .execute();
    // Every admin change reloads the pool; the bad row made each of them fail with 500.
    const created = await admin('/admin/upstreams', { method: 'POST', body: JSON.stringify({ SK: 'sk-after-0123456789', Endpoint: `${upstream.url}/v1`, Models: ['after-model'] }) });
    expect(created.status).toBe(200);
    upstream.enqueue({ kind: 'json', body: { id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'served' }, finish_reason: 'stop' }] } });
    const answered = await postChat(app, { model: 'after-model' });
    expect(answered.status).toBe(200);
    expect(await answered.text()).toContain('served');
    expect((await admin('/admin/upstreams', { method: 'POST', body: JSON.stringify({ SK: 'sk-third-0123456789', Endpoint: `${upstream.url}/v3` }) })).status).toBe(200);
    const warnings = app.logs.filter((line) => line.includes('stored upstream cannot be used'));
    expect(warnings).toHaveLength(1);
    expect(app.logs.join('\n')).not.toContain('hunter2-pass');
  });
});
