import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH } from '../support/start-app.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { forEachStore } from '../support/stores.js';
import { waitForRecord } from '../support/records.js';
import { addDoc, api, newKb, newUser, retrieve, startRagApp, type ChatTestApp } from './rag-client.js';

async function embeddings(app: { url: string }, body: Record<string, unknown>, requestId?: string) {
  const response = await fetch(`${app.url}/v1/embeddings`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index]!, 0);

forEachStore((store) => {
  describe('the local embedding model behind the router', () => {
    let app: ChatTestApp;

    beforeAll(async () => {
      app = await startRagApp({ store });
    });
    afterAll(async () => {
      await app.close();
    });

    it('answers OpenAI /v1/embeddings in process, lists itself and is recorded', async () => {
      const response = await embeddings(app, { model: 'local-glove-100d', input: ['The kitten slept on the rug.', 'The cat rested on the carpet.', 'Stock prices fell sharply.'] }, 'req-local-embed');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ object: 'list', model: 'local-glove-100d', usage: { prompt_tokens: expect.any(Number) } });
      const [kitten, cat, stocks] = response.body.data.map((item: any) => item.embedding);
      expect(kitten).toHaveLength(100);
      expect(cosine(kitten, cat)).toBeGreaterThan(cosine(kitten, stocks) + 0.2);
      const models = await fetch(`${app.url}/v1/models`, { headers: AUTH }).then((reply) => reply.json() as Promise<any>);
      expect(models.data.map((model: any) => model.id)).toContain('local-glove-100d');
      const row = await waitForRecord(app, 'req-local-embed');
      expect(row).toMatchObject({ status: 200, outcome: 'ok', target_id: 'local:local-glove-100d', model: 'local-glove-100d' });
    });

    it('speaks base64 (the OpenAI SDK default) and refuses what it cannot serve', async () => {
      const floats = await embeddings(app, { model: 'local-glove-100d', input: 'reset my password' });
      const encoded = await embeddings(app, { model: 'local-glove-100d', input: 'reset my password', encoding_format: 'base64' });
      const bytes = Buffer.from(encoded.body.data[0].embedding, 'base64');
      const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
      expect(decoded.map((value) => value.toFixed(5))).toEqual(floats.body.data[0].embedding.map((value: number) => value.toFixed(5)));
      expect(await embeddings(app, { model: 'local-glove-100d', input: [[1, 2, 3]] })).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', param: 'input' } } });
      expect(await embeddings(app, { model: 'local-glove-100d', input: [] })).toMatchObject({ status: 400 });
      const chat = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'local-glove-100d', messages: [{ role: 'user', content: 'hi' }] }) });
      expect(chat.status).toBe(400);
      const unknownWords = await embeddings(app, { model: 'local-glove-100d', input: '知识库' });
      expect(unknownWords.body.data[0].embedding.every((value: number) => value === 0)).toBe(true);
    });
  });

  describe('remote embedding models through the gateway', () => {
    let upstream: ScriptedUpstream;
    let app: ChatTestApp;

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      app = await startRagApp({ store, overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/api/paas/v4`, sk: 'sk-remote', profile: 'zhipu' }] } });
    });
    afterAll(async () => {
      await app.close();
      await upstream.close();
    });

    it("lists the seed's model names when an upstream with their profile is configured, and embeds through it", async () => {
      const { token } = await newUser(app);
      const models = await api(app, { path: '/api/rag/models', token });
      expect(models.body.models).toEqual(['local-glove-100d', 'zhipu-embedding-3', 'zhipu-embedding-2']);
      const created = await api(app, { path: '/api/rag/kb/create', token, body: { kb_name: 'remote', embedding_model: 'zhipu-embedding-3' } });
      expect(created.body.message).toBe('知识库创建成功，使用模型: zhipu-embedding-3');
      await addDoc(app, { token, kbId: created.body.kb_id, fileName: 'r.txt', data: 'Remote vectors for a remote knowledge base.' });
      const seen = upstream.requests.filter((request) => request.url === '/api/paas/v4/embeddings');
      expect(seen.at(-1)!.json).toMatchObject({ model: 'embedding-3', input: ['Remote vectors for a remote knowledge base.'] });
      expect(seen.at(-1)!.headers.authorization).toBe('Bearer sk-remote');
      const results = await retrieve(app, { token, kbId: created.body.kb_id, query: 'remote knowledge' });
      expect(results.body.results[0].content).toBe('Remote vectors for a remote knowledge base.');
    });

    it('reports an embedding upstream failure as the seed 500 with its prefix, storing nothing', async () => {
      const { token } = await newUser(app);
      const created = await api(app, { path: '/api/rag/kb/create', token, body: { kb_name: 'remote', embedding_model: 'zhipu-embedding-2' } });
      const kbId = created.body.kb_id;
      upstream.enqueue({ kind: 'json', status: 401, body: { error: { message: 'bad key' } } });
      const form = new FormData();
      form.append('kb_id', kbId);
      form.append('file', new Blob(['Some text to embed.']), 'f.txt');
      const response = await fetch(`${app.url}/api/rag/doc/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
      expect(response.status).toBe(500);
      expect(((await response.json()) as any).error).toMatch(/^上传文档失败: 嵌入模型 zhipu-embedding-2 调用失败: HTTP 401/);
      expect((await api(app, { path: `/api/rag/doc/list?kb_id=${kbId}`, token })).body.docs).toEqual([]);
      const kb = await newKb(app, token);
      expect(kb).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
