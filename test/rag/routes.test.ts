import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachStore } from '../support/stores.js';
import { docxOf, documentXml, pdfOf } from './documents.js';
import { addDoc, api, countRows, newConversation, newKb, newUser, retrieve, startRagApp, upload, type ChatTestApp } from './rag-client.js';

forEachStore((store) => {
  describe('rag routes', () => {
    let app: ChatTestApp;
    let token: string;

    beforeAll(async () => {
      app = await startRagApp({ store, overrides: { 'rag.chunkSize': 200, 'rag.chunkOverlap': 20 } });
      ({ token } = await newUser(app));
    });
    afterAll(async () => {
      await app.close();
    });

    it('creates, lists and deletes knowledge bases with the seed bodies', async () => {
      const created = await api(app, { path: '/api/rag/kb/create', token, body: { kb_name: '产品手册' } });
      expect(created.status).toBe(200);
      expect(created.body).toEqual({ success: true, kb_id: expect.stringMatching(/^[0-9a-f-]{36}$/), message: '知识库创建成功，使用模型: local-glove-100d' });
      const listed = await api(app, { path: '/api/rag/kb/list', token });
      expect(listed.body).toEqual({ success: true, kbs: [{ kb_id: created.body.kb_id, kb_name: '产品手册', embedding_model: 'local-glove-100d' }], message: '知识库列表获取成功' });
      const deleted = await api(app, { path: '/api/rag/kb/delete', token, body: { kb_id: created.body.kb_id } });
      expect(deleted.body).toEqual({ success: true, message: '知识库删除成功' });
      expect((await api(app, { path: '/api/rag/kb/list', token })).body.kbs).toEqual([]);
    });

    it('answers bad input with the seed texts', async () => {
      for (const body of [{}, { kb_name: '' }, { kb_name: 3 }, [1]]) {
        const response = await api(app, { path: '/api/rag/kb/create', token, body });
        expect(response).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      }
      expect(await api(app, { path: '/api/rag/kb/create', token, rawBody: '{oops', headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      expect(await api(app, { path: '/api/rag/kb/create', token, body: { kb_name: 'x', embedding_model: 'nope-model' } })).toMatchObject({ status: 400, body: { error: '不支持的嵌入模型: nope-model' } });
      expect(await api(app, { path: '/api/rag/kb/delete', token, body: {} })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      expect(await api(app, { path: '/api/rag/doc/list', token })).toMatchObject({ status: 400, body: { error: '缺少知识库 ID 参数' } });
      expect(await api(app, { path: '/api/rag/doc/delete', token, body: { kb_id: 'x' } })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      expect(await api(app, { path: '/api/rag/retrieve', token, body: { kb_id: 'x' } })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      expect(await api(app, { path: '/api/rag/retrieve', token, body: { kb_id: 'x', query: 'q', top_k: 'five' } })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      expect(await api(app, { path: '/api/rag/chat', token, body: { conversation_id: '1', kb_id: 'x', message: 'm' } })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      expect(await api(app, { path: '/api/rag/kb/delete', token, body: { kb_id: 'no-such-kb' } })).toMatchObject({ status: 404, body: { error: '知识库不存在' } });
      expect(await api(app, { path: '/api/rag/nope', token })).toMatchObject({ status: 404, body: { error: '404 page not found' } });
    });

    it("refuses a top_k or conversation_id the seed's Go int fields would not bind (fractions, a zero id) with 400", async () => {
      const kbId = await newKb(app, token);
      await addDoc(app, { token, kbId, fileName: 'herons.txt', data: 'Grey herons fish in shallow water at dawn.' });
      const { conversation_id: conversationId } = await newConversation(app, token);
      for (const topK of [0.5, 2.5, 1e300]) {
        expect(await retrieve(app, { token, kbId, query: 'herons fish', topK })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
        expect(await api(app, { path: '/api/rag/chat', token, body: { conversation_id: conversationId, kb_id: kbId, message: 'herons?', top_k: topK } })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      }
      // binding:"required" on an int64 refuses its zero value.
      for (const id of [0, 1.5]) {
        expect(await api(app, { path: '/api/rag/chat', token, body: { conversation_id: id, kb_id: kbId, message: 'herons?' } })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      }
      expect((await retrieve(app, { token, kbId, query: 'herons fish', topK: 1 })).body.results).toHaveLength(1);
    });

    it('answers a JSON body over the body limit with 413 naming that limit, not the upload limit', async () => {
      const limit = app.config.server.bodyLimitBytes;
      const rawBody = JSON.stringify({ kb_id: 'x', query: 'q'.repeat(limit) });
      for (const path of ['/api/rag/retrieve', '/api/rag/kb/create', '/api/rag/chat']) {
        const response = await api(app, { path, token, rawBody, headers: { 'content-type': 'application/json' } });
        expect(response).toMatchObject({ status: 413, body: { error: `请求体过大: 上限为 ${limit} 字节` } });
      }
    });

    it('requires a user token on every route (seed 401 texts)', async () => {
      for (const [method, path] of [['POST', '/api/rag/kb/create'], ['GET', '/api/rag/kb/list'], ['POST', '/api/rag/doc/upload'], ['GET', '/api/rag/models'], ['POST', '/api/rag/chat']] as const) {
        const missing = await api(app, { method, path });
        expect(missing).toMatchObject({ status: 401, body: { error: 'Authorization header missing' } });
      }
      expect(await api(app, { path: '/api/rag/kb/list', headers: { authorization: 'Token abc' } })).toMatchObject({ status: 401, body: { error: 'Invalid token format' } });
      expect(await api(app, { path: '/api/rag/kb/list', token: 'not-a-jwt' })).toMatchObject({ status: 401, body: { error: 'Invalid or expired token' } });
    });

    it('lists what is really configured on /models', async () => {
      const models = await api(app, { path: '/api/rag/models', token });
      expect(models.body).toEqual({ success: true, models: ['local-glove-100d'], message: '支持的Embedding模型列表获取成功' });
    });

    it('uploads each file type, reports the chunk count and lists documents', async () => {
      const kbId = await newKb(app, token);
      const long = Array.from({ length: 12 }, (_, index) => `Sentence number ${index} talks about warehouse inventory counts.`).join(' ');
      const files: [string, Buffer | string, string][] = [
        ['notes.txt', `First paragraph about billing.\n\n${long}`, 'txt'],
        ['guide.md', '# Guide\n\n## Install\n\nRun the installer and accept the licence.\n', 'md'],
        ['page.html', '<h1>Office</h1><p>The office opens at nine.</p><script>steal()</script>', 'html'],
        ['report.docx', docxOf([{ text: 'Quarterly report', heading: 1 }, { text: 'Revenue grew in the northern region.' }]), 'docx'],
        ['scan.PDF', pdfOf([['The lighthouse keeper logs the weather.'], ['Storms arrive from the west.']]), 'pdf'],
      ];
      for (const [fileName, data, fileType] of files) {
        const response = await upload(app, { token, kbId, fileName, data });
        expect(response.status, response.text).toBe(200);
        expect(response.body).toEqual({ success: true, doc_id: expect.stringMatching(/^[0-9a-f-]{36}$/), message: expect.stringMatching(/^文档上传处理成功，共分割并添加 \d+ 个文本块$/) });
        const count = Number(/添加 (\d+) 个/.exec(response.body.message)![1]);
        const rows = await app.app.store.db.selectFrom('chunks').selectAll().where('doc_id', '=', response.body.doc_id).orderBy('position').execute();
        expect(rows).toHaveLength(count);
        expect(rows.every((row) => row.content.length <= 200)).toBe(true);
        const docs = await api(app, { path: `/api/rag/doc/list?kb_id=${kbId}`, token });
        expect(docs.body.docs.at(-1)).toMatchObject({ doc_id: response.body.doc_id, kb_id: kbId, doc_name: fileName, file_type: fileType });
      }
      expect((await api(app, { path: `/api/rag/doc/list?kb_id=${kbId}`, token })).body).toMatchObject({ success: true, message: '文档列表获取成功' });
      const txtChunks = await app.app.store.db.selectFrom('chunks').innerJoin('docs', 'docs.doc_id', 'chunks.doc_id').select(['chunks.content']).where('docs.doc_name', '=', 'notes.txt').execute();
      expect(txtChunks.length).toBeGreaterThan(2);
      const html = await retrieve(app, { token, kbId, query: 'When does the office open?' });
      expect(html.body.results[0]).toMatchObject({ doc_name: 'page.html', content: 'The office opens at nine.', heading_path: ['Office'] });
      expect(JSON.stringify(html.body)).not.toContain('steal');
      const pdf = await retrieve(app, { token, kbId, query: 'storms from the west' });
      expect(pdf.body.results[0]).toMatchObject({ doc_name: 'scan.PDF', page: 2 });
      const docx = await retrieve(app, { token, kbId, query: 'revenue in the north' });
      expect(docx.body.results[0]).toMatchObject({ doc_name: 'report.docx', heading_path: ['Quarterly report'] });
      expect(docx.body.message).toBe('检索成功');
      expect(docx.body.results.length).toBeLessThanOrEqual(5);
    });

    it('keeps each row of a DOCX or HTML table together on one line (cells hold <p> in mammoth output)', async () => {
      const kbId = await newKb(app, token);
      const cell = (text: string) => `<w:tc><w:p><w:r><w:t>${text}</w:t></w:r></w:p></w:tc>`;
      const row = (cells: string[]) => `<w:tr>${cells.map(cell).join('')}</w:tr>`;
      const table = `<w:tbl>${row(['Product', 'Price', 'Warehouse'])}${row(['Widget', '$12.50', 'Rotterdam'])}${row(['Gizmo', '$99.00', 'Singapore'])}</w:tbl>`;
      const xml = documentXml([{ text: 'Inventory', heading: 1 }]).replace('</w:body>', `${table}<w:p><w:r><w:t>Prices exclude VAT.</w:t></w:r></w:p></w:body>`);
      await addDoc(app, { token, kbId, fileName: 'inventory.docx', data: docxOf([], { documentXml: xml }) });
      await addDoc(app, { token, kbId, fileName: 'inventory.html', data: '<table><tr><th><p>Product</p></th><th><div>Price</div></th></tr><tr><td><p>Lamp</p></td><td><p>$7.25</p></td></tr></table>' });
      const contents = (await app.app.store.db.selectFrom('chunks').select('content').where('kb_id', '=', kbId).orderBy('id').execute()).map((chunk) => chunk.content);
      expect(contents).toEqual(['Product Price Warehouse\n\nWidget $12.50 Rotterdam\n\nGizmo $99.00 Singapore\n\nPrices exclude VAT.', 'Product Price\n\nLamp $7.25']);
    });

    it('reads Latin-1 and Windows-1252 text files as such, not as UTF-8 replacement characters', async () => {
      const kbId = await newKb(app, token);
      await addDoc(app, { token, kbId, fileName: 'latin1.txt', data: Buffer.from('Die Größe des Gebäudes überrascht.', 'latin1') });
      // 0x80 is € and 0x93/0x94 are curly quotes in Windows-1252 (undefined in ISO-8859-1).
      await addDoc(app, { token, kbId, fileName: 'cp1252.txt', data: Buffer.from([...Buffer.from('Le prix: 12 '), 0x80, ...Buffer.from(' pour un caf'), 0xe9, ...Buffer.from(' '), 0x93, ...Buffer.from('cr'), 0xe8, ...Buffer.from('me'), 0x94, ...Buffer.from('.')]) });
      // UTF-8 text with one stray byte stays UTF-8.
      await addDoc(app, { token, kbId, fileName: 'utf8.txt', data: Buffer.concat([Buffer.from('Überall grüne Bäume, naïve café. '), Buffer.from([0xff])]) });
      const contents = (await app.app.store.db.selectFrom('chunks').innerJoin('docs', 'docs.doc_id', 'chunks.doc_id').select(['docs.doc_name', 'chunks.content']).where('chunks.kb_id', '=', kbId).execute()).map((row) => [row.doc_name, row.content]);
      expect(Object.fromEntries(contents)).toEqual({
        'latin1.txt': 'Die Größe des Gebäudes überrascht.',
        'cp1252.txt': 'Le prix: 12 € pour un café “crème”.',
        'utf8.txt': 'Überall grüne Bäume, naïve café. \ufffd',
      });
      expect((await retrieve(app, { token, kbId, query: 'Größe Gebäudes' })).body.results[0]).toMatchObject({ doc_name: 'latin1.txt' });
    });

    it('refuses a KB name or a query holding a NUL character with 400 (PostgreSQL refuses NUL in text)', async () => {
      const kbId = await newKb(app, token);
      await addDoc(app, { token, kbId, fileName: 'tides.txt', data: 'Harbour tides rise twice daily.' });
      expect(await api(app, { path: '/api/rag/kb/create', token, body: { kb_name: 'a\u0000b' } })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      expect(await retrieve(app, { token, kbId, query: 'tides\u0000' })).toMatchObject({ status: 400, body: { error: '无效的请求参数' } });
      expect((await retrieve(app, { token, kbId, query: 'tides' })).body.results[0]).toMatchObject({ doc_name: 'tides.txt' });
    });

    it('deleting a document or a KB removes its chunks and index rows', async () => {
      const kbId = await newKb(app, token);
      const first = await addDoc(app, { token, kbId, fileName: 'a.txt', data: 'Pelicans nest on the northern cliffs every spring.' });
      await addDoc(app, { token, kbId, fileName: 'b.txt', data: 'Glaciers carve deep valleys over thousands of years.' });
      expect(await countRows(app, 'chunks', kbId)).toBe(2);
      // Warm any in-memory vector cache first: the delete must invalidate it.
      expect((await retrieve(app, { token, kbId, query: 'pelicans nest cliffs' })).body.results[0].doc_name).toBe('a.txt');
      const deleted = await api(app, { path: '/api/rag/doc/delete', token, body: { kb_id: kbId, doc_id: first } });
      expect(deleted.body).toEqual({ success: true, message: '文档删除成功' });
      expect(await countRows(app, 'chunks', kbId)).toBe(1);
      expect((await retrieve(app, { token, kbId, query: 'pelicans nest cliffs' })).body.results.map((result: any) => result.doc_name)).not.toContain('a.txt');
      expect(await api(app, { path: '/api/rag/doc/delete', token, body: { kb_id: kbId, doc_id: first } })).toMatchObject({ status: 404, body: { error: '文档不存在' } });
      if (store === 'sqlite') {
        const sqlite = app.app.store.sqlite!;
        expect(sqlite.prepare('select count(*) as n from rag_chunks_fts where rowid not in (select id from chunks)').get()).toEqual({ n: 0 });
        expect(sqlite.prepare('select count(*) as n from rag_chunks_fts where rowid in (select id from chunks where kb_id = ?)').get(kbId)).toEqual({ n: 1 });
        expect(sqlite.prepare('select count(*) as n from rag_vec_100 where kb_id = ?').get(kbId)).toEqual({ n: 1 });
      }
      await api(app, { path: '/api/rag/kb/delete', token, body: { kb_id: kbId } });
      expect(await countRows(app, 'chunks', kbId)).toBe(0);
      expect(await countRows(app, 'docs', kbId)).toBe(0);
      if (store === 'sqlite') {
        const sqlite = app.app.store.sqlite!;
        expect(sqlite.prepare('select count(*) as n from rag_vec_100 where kb_id = ?').get(kbId)).toEqual({ n: 0 });
        const ftsRows = sqlite.prepare('select count(*) as n from rag_chunks_fts where rowid not in (select id from chunks)').get();
        expect(ftsRows).toEqual({ n: 0 });
      }
    });
  });
});
