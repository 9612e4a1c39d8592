import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, startApp, type TestApp } from '../support/start-app.js';
import { forEachStore } from '../support/stores.js';

const json = { 'content-type': 'application/json' };

forEachStore((store) => {
  describe('admin API input at the edges (seed 001 §2.6)', () => {
    let app: TestApp;
    const admin = (path: string, init: { method?: string; body?: string } = {}) => fetch(`${app.url}${path}`, { ...init, headers: { ...AUTH, ...json } });
    const upstream = JSON.stringify({ SK: 'sk-edge-0123456789abcdef', Endpoint: 'https://edge.example.test/v1' });
    beforeAll(async () => {
      app = await startApp({ store });
    });
    afterAll(async () => {
      await app.close();
    });

    it('an id beyond Go int is answered like strconv.Atoi ("value out of range", 502), never 500', async () => {
      for (const id of ['99999999999999999999', '9223372036854775808', '-9223372036854775809']) {
        for (const method of ['PUT', 'DELETE']) {
          const response = await admin(`/admin/upstreams/${id}`, { method, body: upstream });
          expect(response.status).toBe(502);
          expect(await response.json()).toEqual({ error: `strconv.Atoi: parsing "${id}": value out of range` });
        }
      }
    });

    it('an id Go accepts but no row can have is not found (PUT 404, DELETE success), never 500', async () => {
      for (const id of ['9223372036854775807', '9007199254740993', '+7']) {
        const put = await admin(`/admin/upstreams/${id}`, { method: 'PUT', body: upstream });
        expect(put.status).toBe(404);
        const deleted = await admin(`/admin/upstreams/${id}`, { method: 'DELETE' });
        expect(deleted.status).toBe(200);
        expect(await deleted.json()).toEqual({ message: 'success' });
      }
    });

    it('refuses a key that cannot be sent in an HTTP header (NUL, newline) with 400, never 500', async () => {
      for (const sk of ['sk-nul\u0000-0123456789', 'sk-line\n-0123456789']) {
        const response = await admin('/admin/upstreams', { method: 'POST', body: JSON.stringify({ SK: sk, Endpoint: 'https://nul.example.test/v1' }) });
        expect(response.status).toBe(400);
        expect(JSON.stringify(await response.json())).not.toContain('0123456789');
      }
      expect(await (await admin('/admin/upstreams')).json()).toEqual([]);
    });

    it('refuses an endpoint with credentials in it (they would be dropped, and listed in clear)', async () => {
      const created = await admin('/admin/upstreams', { method: 'POST', body: JSON.stringify({ SK: 'sk-cred-0123456789abcdef', Endpoint: 'https://user:hunter2-pass@cred.example.test/v1' }) });
      expect(created.status).toBe(400);
      expect(JSON.stringify(await created.json())).not.toContain('hunter2-pass');
      expect(await (await admin('/admin/upstreams')).json()).toEqual([]);
    });

    it('lists an endpoint stored with a password (edited in the database) with the password masked', async () => {
      await app.app.store.db
        .insertInto('openai_upstreams')
        .values({ created_at: 1, updated_at: 1, deleted_at: null, name: '', sk: 'sk-db-0123456789abcdef', endpoint: 'https://user:hunter2-pass@db.example.test/v1', profile: 'openai-compatible', weight: 1, models: '[]', success_count: 0, failed_count: 0, last_call_success_time: 0 })
        .execute();
      const text = await (await admin('/admin/upstreams')).text();
      expect(text).not.toContain('hunter2-pass');
      expect(text).toContain('db.example.test/v1');
    });

    it('reads the body as JSON whatever its content type, as gin does (the README\'s `curl -d` sends a form type)', async () => {
      const send = (contentType: string | undefined, body: string) =>
        fetch(`${app.url}/admin/upstreams`, { method: 'POST', body, headers: { ...AUTH, ...(contentType ? { 'content-type': contentType } : {}) } });
      const form = await send('application/x-www-form-urlencoded', JSON.stringify({ SK: 'sk-form-0123456789abcdef', Endpoint: 'https://form.example.test/v1' }));
      expect(form.status).toBe(200);
      expect(await form.json()).toEqual({ message: 'success' });
      const bare = await send('text/plain', JSON.stringify({ SK: 'sk-bare-0123456789abcdef', Endpoint: 'https://bare.example.test/v1' }));
      expect(bare.status).toBe(200);
      const listed = (await (await admin('/admin/upstreams')).json()) as { Endpoint: string }[];
      expect(listed.map((row) => row.Endpoint)).toEqual(expect.arrayContaining(['https://form.example.test/v1', 'https://bare.example.test/v1']));
      const malformed = await send('application/x-www-form-urlencoded', 'SK=x&Endpoint=y');
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as { error: string }).error).toMatch(/can't parse OPENAI_UPSTREAM object$/);
    });
  });
});
