import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { forEachStore } from '../support/stores.js';
import { api, chat, newConversation, newUser, startChatApp, type ChatTestApp } from './chat-client.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';

forEachStore((store) => {
  describe('conversations created in the same millisecond', () => {
    let upstream: ScriptedUpstream;
    let app: ChatTestApp;

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      app = await startChatApp({ store, upstream });
    });
    afterEach(() => {
      vi.useRealTimers();
    });
    afterAll(async () => {
      await app.close();
      await upstream.close();
    });

    it('are listed newest first in the order they were created (seed: ORDER BY ROWID DESC), not by their random ids', async () => {
      const user = await newUser(app);
      // The clock stands still: every row below is written in the same millisecond.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const created: number[] = [];
      for (let index = 0; index < 8; index++) created.push((await newConversation(app, user.token, { title: `c${index}` })).conversation_id);
      const listed = await api(app, { path: '/api/conversations/list', token: user.token });
      expect(listed.body.map((row: any) => row.conversation_id)).toEqual([...created].reverse());
    });

    it('keep their messages in the order they were written', async () => {
      const user = await newUser(app);
      const { conversation_id: id } = await newConversation(app, user.token);
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      for (const message of ['one', 'two', 'three']) expect((await chat(app, { token: user.token, id, message })).status).toBe(200);
      const history = await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
      expect(history.body.messages.map((message: any) => [message.message_id, message.content])).toEqual([
        [1, 'one'],
        [2, 'echo: one'],
        [3, 'two'],
        [4, 'echo: two'],
        [5, 'three'],
        [6, 'echo: three'],
      ]);
    });
  });
});
