import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChatApp } from '../chat/chat-client.js';
import { addDoc, newKb, newUser, retrieve } from './rag-client.js';

describe('restart on a SQLite file that holds knowledge bases', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'switchboard-rag-restart-'));
  afterAll(() => {
    rmSync(cwd, { recursive: true, force: true });
  });

  it('starts again and still finds what was uploaded before', async () => {
    const first = await startChatApp({ store: 'sqlite', cwd });
    let token: string;
    let kbId: string;
    try {
      ({ token } = await newUser(first));
      kbId = await newKb(first, token);
      await addDoc(first, { token, kbId, fileName: 'otters.txt', data: 'Sea otters hold hands while they sleep.' });
    } finally {
      await first.close();
    }
    // The vector tables are sqlite-vec virtual tables: a restart must not trip over them.
    const second = await startChatApp({ store: 'sqlite', cwd });
    try {
      const found = await retrieve(second, { token, kbId, query: 'otters sleep' });
      expect(found.status).toBe(200);
      expect(found.body.results[0]).toMatchObject({ doc_name: 'otters.txt' });
    } finally {
      await second.close();
    }
  });
});
