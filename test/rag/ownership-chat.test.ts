import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { parseBareJsonBlocks } from '../support/sse-client.js';
import { forEachStore } from '../support/stores.js';
import { addDoc, api, countRows, newConversation, newKb, newUser, retrieve, startRagApp, upload, type ChatTestApp } from './rag-client.js';

const MARKER = 'zanzibarquokka';

forEachStore((store) => {
  describe('rag ownership and grounded chat', () => {
    let upstream: ScriptedUpstream;
    let app: ChatTestApp;
    let alice: { token: string; userId: number };
    let bob: { token: string; userId: number };
    let aliceKb: string;
    let aliceDoc: string;
    let bobKb: string;

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      app = await startRagApp({ store, upstream });
      alice = await newUser(app);
      bob = await newUser(app);
      aliceKb = await newKb(app, alice.token, 'alice');
      aliceDoc = await addDoc(app, { token: alice.token, kbId: aliceKb, fileName: 'secret.txt', data: `The vault code word is ${MARKER}. Treasure is buried under the old oak tree.` });
      bobKb = await newKb(app, bob.token, 'bob');
      await addDoc(app, { token: bob.token, kbId: bobKb, fileName: 'bob.txt', data: 'Treasure maps are drawn on parchment with a compass rose.' });
    });
    afterAll(async () => {
      await app.close();
      await upstream.close();
    });

    it("refuses every route on another user's KB or document with 404 and leaves it unchanged", async () => {
      const notFound = { status: 404, body: { error: '知识库不存在' } };
      expect(await api(app, { path: `/api/rag/doc/list?kb_id=${aliceKb}`, token: bob.token })).toMatchObject(notFound);
      expect(await api(app, { path: '/api/rag/kb/delete', token: bob.token, body: { kb_id: aliceKb } })).toMatchObject(notFound);
      expect(await api(app, { path: '/api/rag/doc/delete', token: bob.token, body: { kb_id: aliceKb, doc_id: aliceDoc } })).toMatchObject(notFound);
      // Bob's own KB id with Alice's document id: the document is not in that KB.
      expect(await api(app, { path: '/api/rag/doc/delete', token: bob.token, body: { kb_id: bobKb, doc_id: aliceDoc } })).toMatchObject({ status: 404, body: { error: '文档不存在' } });
      expect(await upload(app, { token: bob.token, kbId: aliceKb, fileName: 'x.txt', data: 'planted by bob' })).toMatchObject(notFound);
      expect(await retrieve(app, { token: bob.token, kbId: aliceKb, query: `vault code ${MARKER}` })).toMatchObject(notFound);
      const conversation = await newConversation(app, bob.token);
      expect(await api(app, { path: '/api/rag/chat', token: bob.token, body: { conversation_id: conversation.conversation_id, kb_id: aliceKb, message: 'vault code?' } })).toMatchObject(notFound);
      expect((await api(app, { path: '/api/rag/kb/list', token: bob.token })).body.kbs.map((kb: any) => kb.kb_id)).toEqual([bobKb]);
      expect(await countRows(app, 'docs', aliceKb)).toBe(1);
      expect(await countRows(app, 'chunks', aliceKb)).toBe(1);
      expect((await retrieve(app, { token: alice.token, kbId: aliceKb, query: `vault code ${MARKER}` })).body.results[0].content).toContain(MARKER);
    });

    it("never returns another KB's chunks, even for a query made of the marker", async () => {
      const response = await retrieve(app, { token: bob.token, kbId: bobKb, query: `${MARKER} vault code word treasure buried oak`, topK: 50 });
      expect(response.status).toBe(200);
      expect(response.body.results.length).toBeGreaterThan(0);
      expect(response.text).not.toContain(MARKER);
      expect(response.text).not.toContain('oak tree');
    });

    it("refuses chat on another user's conversation", async () => {
      const aliceConversation = await newConversation(app, alice.token);
      const response = await api(app, { path: '/api/rag/chat', token: bob.token, body: { conversation_id: aliceConversation.conversation_id, kb_id: bobKb, message: 'treasure?' } });
      expect(response).toMatchObject({ status: 404, body: { error: 'Conversation not found' } });
    });

    it('streams a grounded answer, sends the seed prompt upstream and stores only the question', async () => {
      const conversation = await newConversation(app, bob.token, { title: 'maps' });
      const before = upstream.requests.length;
      const response = await api(app, { path: '/api/rag/chat', token: bob.token, body: { conversation_id: conversation.conversation_id, kb_id: bobKb, message: 'How are treasure maps drawn?', top_k: 3 } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const blocks = parseBareJsonBlocks(response.text);
      expect(blocks.filter((block: any) => block.event === 'done')).toEqual([{ event: 'done', data: 'Stream finished' }]);
      const prompt = upstream.requests.slice(before).find((request) => request.url.endsWith('/chat/completions'))!.json.messages.at(-1).content;
      expect(prompt).toBe('以下是与问题相关的背景信息：\n\n[文档1: bob.txt]\nTreasure maps are drawn on parchment with a compass rose.\n\n请基于上述信息回答以下问题：\n\nHow are treasure maps drawn?');
      expect(blocks.at(-1)).toEqual({ event: 'full_response', data: `echo: ${prompt}` });
      const history = await api(app, { path: `/api/conversations/history/${conversation.conversation_id}`, token: bob.token });
      expect(history.body.messages.map((message: any) => [message.role, message.content])).toEqual([
        ['user', 'How are treasure maps drawn?'],
        ['assistant', `echo: ${prompt}`],
      ]);
      for (const request of upstream.requests) expect(JSON.stringify(request.json ?? {})).not.toContain(MARKER);
    });

    it('says when nothing relevant was found (seed 500 text) and sends nothing upstream', async () => {
      const conversation = await newConversation(app, bob.token);
      const before = upstream.requests.length;
      const response = await api(app, { path: '/api/rag/chat', token: bob.token, body: { conversation_id: conversation.conversation_id, kb_id: bobKb, message: 'xyzzyplugh qwfpgj' } });
      expect(response).toMatchObject({ status: 500, body: { error: '生成提示失败: 知识库中未找到相关信息' } });
      expect(upstream.requests.slice(before).filter((request) => request.url.endsWith('/chat/completions'))).toEqual([]);
      const empty = await retrieve(app, { token: bob.token, kbId: bobKb, query: 'xyzzyplugh qwfpgj' });
      expect(empty.body).toEqual({ success: true, results: [], message: '检索成功' });
    });
  });
});
