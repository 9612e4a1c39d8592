import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedUpstream } from '../support/scripted-upstream.js';
import { forEachStore } from '../support/stores.js';
import { docxOf, documentXml, pdfOf, zipOf } from './documents.js';
import { api, newKb, newUser, rawUpload, startRagApp, upload, type ChatTestApp } from './rag-client.js';

const MAX_UPLOAD = 256 * 1024;

function multipartBody(boundary: string, parts: string[]): Buffer {
  return Buffer.from(parts.map((part) => `--${boundary}\r\n${part}\r\n`).join('') + `--${boundary}--\r\n`);
}

forEachStore((store) => {
  describe('hostile uploads', () => {
    let app: ChatTestApp;
    let token: string;
    let kbId: string;

    beforeAll(async () => {
      app = await startRagApp({
        store,
        overrides: {
          'rag.maxUploadBytes': MAX_UPLOAD,
          'rag.maxTextChars': 200_000,
          'rag.docx.maxUncompressedBytes': 4 * 1024 * 1024,
          'rag.docx.maxEntries': 50,
          'rag.pdf.maxPages': 3,
        },
      });
      ({ token } = await newUser(app));
      kbId = await newKb(app, token);
    });
    afterAll(async () => {
      await app.close();
    });

    const send = (fileName: string, data: Buffer | string) => upload(app, { token, kbId, fileName, data });

    it('refuses an oversize file with 413', async () => {
      const response = await send('big.txt', 'a'.repeat(MAX_UPLOAD + 10));
      expect(response).toMatchObject({ status: 413, body: { error: `文件过大: 上限为 ${MAX_UPLOAD} 字节` } });
    });

    it('refuses unknown types, empty files and content that does not match the extension', async () => {
      expect(await send('tool.exe', 'MZ....')).toMatchObject({ status: 400, body: { error: '不支持的文件类型: exe' } });
      expect(await send('README', 'text')).toMatchObject({ status: 400, body: { error: '不支持的文件类型: ' } });
      expect(await send('empty.txt', '')).toMatchObject({ status: 400, body: { error: '文件为空' } });
      expect(await send('fake.txt', pdfOf([['hello']]))).toMatchObject({ status: 400, body: { error: '文件内容与扩展名不符: txt' } });
      expect(await send('fake.pdf', docxOf([{ text: 'hi' }]))).toMatchObject({ status: 400, body: { error: '文件内容与扩展名不符: pdf' } });
      expect(await send('fake.docx', 'just text')).toMatchObject({ status: 400, body: { error: '文件内容与扩展名不符: docx' } });
      expect(await send('binary.md', Buffer.from([0x68, 0x00, 0x69]))).toMatchObject({ status: 400, body: { error: '文件内容与扩展名不符: md' } });
    });

    it('stores text whose NUL and control characters come after the sniffed prefix, without them (PostgreSQL refuses NUL)', async () => {
      const data = `${'Filler words before the marker. '.repeat(300)}\n\nCapybaras\u0000 are the largest\u0007 rodents.\f\u007f`;
      const response = await send('controls.txt', data);
      expect(response.status, response.text).toBe(200);
      const rows = await app.app.store.db.selectFrom('chunks').select('content').where('doc_id', '=', response.body.doc_id).execute();
      expect(rows.map((row) => row.content).join('\n')).toContain('Capybaras are the largest rodents.');
      // eslint-disable-next-line no-control-regex -- the point of the test
      expect(rows.filter((row) => /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(row.content))).toEqual([]);
    });

    it('refuses DOCX bombs before decompressing them', async () => {
      const bomb = docxOf([], { documentXml: documentXml([{ text: 'x' }]) + ' '.repeat(8 * 1024 * 1024) });
      expect(bomb.length).toBeLessThan(100 * 1024);
      expect(await send('bomb.docx', bomb)).toMatchObject({ status: 413, body: { error: expect.stringContaining('文档过大') } });
      const dense = docxOf([{ text: 'a'.repeat(3 * 1024 * 1024) }]);
      expect(await send('ratio.docx', dense)).toMatchObject({ status: 413, body: { error: '文档过大: 压缩比超过 100:1' } });
      const crowded = docxOf([{ text: 'hi' }], { extra: Array.from({ length: 60 }, (_, index) => ({ name: `media/${index}.bin`, data: 'x' })) });
      expect(await send('entries.docx', crowded)).toMatchObject({ status: 413, body: { error: '文档过大: ZIP 条目超过 50 个' } });
      expect(await send('zip64.docx', docxOf([{ text: 'hi' }], { zip64: true }))).toMatchObject({ status: 422, body: { error: '无效的 DOCX 文件: 不支持 ZIP64' } });
    });

    it('refuses a DOCX whose directory lies about sizes, or whose XML declares entities', async () => {
      const liar = zipOf([{ name: 'word/document.xml', data: documentXml([{ text: 'y'.repeat(50_000) }]), declaredSize: 200 }]);
      expect(await send('liar.docx', liar)).toMatchObject({ status: 422, body: { error: expect.stringContaining('大小与目录不符') } });
      const laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n';
      const xxe = docxOf([], { documentXml: documentXml([{ text: 'x' }], laughs) });
      expect(await send('laughs.docx', xxe)).toMatchObject({ status: 422, body: { error: '无效的 DOCX 文件: word/document.xml 含有 DOCTYPE' } });
      expect(await send('nodoc.docx', zipOf([{ name: 'a.txt', data: 'hello' }]))).toMatchObject({ status: 422, body: { error: '无效的 DOCX 文件: 缺少 word/document.xml' } });
    });

    it('refuses PDFs with too many pages, and broken PDFs', async () => {
      const long = pdfOf(Array.from({ length: 4 }, (_, index) => [`page ${index}`]));
      expect(await send('long.pdf', long)).toMatchObject({ status: 413, body: { error: '文档过大: PDF 超过 3 页' } });
      expect(await send('broken.pdf', '%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage')).toMatchObject({ status: 422, body: { error: expect.stringContaining('无效的 PDF 文件') } });
    });

    it('caps extracted text', async () => {
      const response = await send('huge.md', `# T\n\n${'word '.repeat(50_000)}`);
      expect(response).toMatchObject({ status: 413, body: { error: '文档文本超过上限 (200000 字符)' } });
    });

    it('keeps only a sanitised file name as metadata', async () => {
      const names: [string, string][] = [
        ['../../etc/passwd.txt', 'passwd.txt'],
        ['..\\..\\windows\\win.ini.txt', 'win.ini.txt'],
        ['/abs/path/x.txt', 'x.txt'],
        ['C:\\temp\\y.txt', 'y.txt'],
        ['report\u202Efdp.txt', 'reportfdp.txt'],
        ['%2e%2e%2fz.txt', '%2e%2e%2fz.txt'],
        [`${'n'.repeat(1000)}.txt`, `${'n'.repeat(196)}.txt`],
      ];
      for (const [raw, expected] of names) {
        const response = await send(raw, 'Harmless text about gardening.');
        expect(response.status, raw).toBe(200);
        const docs = await api(app, { path: `/api/rag/doc/list?kb_id=${kbId}`, token });
        expect(docs.body.docs.find((doc: any) => doc.doc_id === response.body.doc_id).doc_name).toBe(expected);
      }
    });

    it('answers multipart framing problems with 4xx', async () => {
      const text = 'Content-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello';
      const long = 'b'.repeat(71);
      expect(await rawUpload(app, { token, contentType: `multipart/form-data; boundary=${long}`, body: multipartBody(long, [text]) })).toMatchObject({ status: 400, text: '{"error":"无效的 multipart 边界"}' });
      const busboyLoop = 'c'.repeat(252);
      expect(await rawUpload(app, { token, contentType: `multipart/form-data; boundary=${busboyLoop}`, body: multipartBody(busboyLoop, [text]) })).toMatchObject({ status: 400 });
      expect(await rawUpload(app, { token, contentType: 'multipart/form-data', body: Buffer.from('x') })).toMatchObject({ status: 400 });
      expect(await rawUpload(app, { token, contentType: 'multipart/form-data; boundary=abc', body: Buffer.from('--abc\r\nContent-Disposition: form-data; name="kb_id"\r\n\r\nunterminated') })).toMatchObject({ status: 400 });
      const fields = Array.from({ length: 25 }, (_, index) => `Content-Disposition: form-data; name="f${index}"\r\n\r\nv`);
      expect(await rawUpload(app, { token, contentType: 'multipart/form-data; boundary=abc', body: multipartBody('abc', fields) })).toMatchObject({ status: 413 });
      const bigField = `Content-Disposition: form-data; name="kb_id"\r\n\r\n${'k'.repeat(70 * 1024)}`;
      expect(await rawUpload(app, { token, contentType: 'multipart/form-data; boundary=abc', body: multipartBody('abc', [bigField, text]) })).toMatchObject({ status: 413, text: '{"error":"表单字段过大"}' });
      expect(await upload(app, { token, fileName: 'a.txt', data: 'hello' })).toMatchObject({ status: 400, body: { error: '缺少知识库 ID' } });
      expect(await upload(app, { token, kbId })).toMatchObject({ status: 400, body: { error: '未上传文件' } });
      expect(await api(app, { path: '/api/rag/doc/upload', token, body: { kb_id: kbId } })).toMatchObject({ status: 400, body: { error: '缺少知识库 ID' } });
      // Still serving after all of the above.
      expect((await api(app, { path: '/api/rag/kb/list', token })).status).toBe(200);
    });
  });

  describe('parser worker limits', () => {
    it('parses off the main thread: other requests are answered while a large PDF is parsed', async () => {
      const app = await startRagApp({ store });
      try {
        const { token } = await newUser(app);
        const kbId = await newKb(app, token);
        const book = pdfOf(Array.from({ length: 800 }, (_, index) => [`Page ${index} of a long manual about turbine maintenance.`]));
        const events: string[] = [];
        const uploading = upload(app, { token, kbId, fileName: 'manual.pdf', data: book }).then((response) => {
          events.push('upload');
          return response;
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
        for (let index = 0; index < 5; index++) {
          expect((await api(app, { path: '/api/rag/kb/list', token })).status).toBe(200);
          events.push('list');
        }
        expect((await uploading).status).toBe(200);
        expect(events.indexOf('upload')).toBe(5);
      } finally {
        await app.close();
      }
    });

    it('chunks and indexes a large text off the main thread: the event loop never stalls for long', async () => {
      const upstream = await startScriptedUpstream();
      const app = await startRagApp({ store, upstream, overrides: { 'rag.embedding.models': ['fake-embed'], 'rag.embedding.local.enabled': false, 'rag.chunkSize': 4_000 } });
      try {
        const { token } = await newUser(app);
        const created = await api(app, { path: '/api/rag/kb/create', token, body: { kb_name: 'big', embedding_model: 'fake-embed' } });
        // ~6 MB in large chunks: few rows to embed and store, but a million index terms to compute.
        const text = Array.from({ length: 6_000 }, (_, index) => `Paragraph ${index}: the turbine maintenance manual explains rotor inspection. Bearings need grease, seals need checking, and blades need cleaning after storms.`.repeat(6)).join('\n\n');
        const histogram = monitorEventLoopDelay({ resolution: 10 });
        histogram.enable();
        const response = await upload(app, { token, kbId: created.body.kb_id, fileName: 'manual.txt', data: text });
        histogram.disable();
        expect(response.status, response.text).toBe(200);
        // Chunking and index terms of this text alone take ~300 ms of CPU when run on the main thread.
        expect(histogram.max / 1e6).toBeLessThan(250);
      } finally {
        await app.close();
        await upstream.close();
      }
    });

    it('turns a parser worker running out of memory into 413 and keeps serving', async () => {
      const app = await startRagApp({ store, overrides: { 'rag.parser.heapMb': 4 } });
      try {
        const { token } = await newUser(app);
        const kbId = await newKb(app, token);
        const response = await upload(app, { token, kbId, fileName: 'doc.pdf', data: pdfOf([['one']]) });
        expect(response).toMatchObject({ status: 413, body: { error: '文档过大: 解析时内存超限' } });
        expect((await api(app, { path: '/api/rag/kb/list', token })).status).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('kills a parse that runs past its wall-clock limit (422) and keeps serving', async () => {
      const app = await startRagApp({ store, overrides: { 'rag.parser.timeoutMs': 1 } });
      try {
        const { token } = await newUser(app);
        const kbId = await newKb(app, token);
        const response = await upload(app, { token, kbId, fileName: 'slow.pdf', data: pdfOf([['one'], ['two']]) });
        expect(response).toMatchObject({ status: 422, body: { error: '文档解析超时 (1 ms)' } });
        expect((await api(app, { path: '/api/rag/kb/list', token })).status).toBe(200);
      } finally {
        await app.close();
      }
    });
  });
});
