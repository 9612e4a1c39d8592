import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachStore } from '../support/stores.js';
import { addDoc, newKb, newUser, retrieve, startRagApp, type ChatTestApp } from './rag-client.js';
import { CHINESE_DOC, CHINESE_QUESTIONS, HANDBOOK, QUESTIONS } from './retrieval-corpus.js';

forEachStore((store) => {
  describe('retrieval quality with the offline model', () => {
    let app: ChatTestApp;
    let token: string;
    let kbId: string;

    beforeAll(async () => {
      app = await startRagApp({ store });
      ({ token } = await newUser(app));
      kbId = await newKb(app, token, 'handbook');
      await addDoc(app, { token, kbId, fileName: 'handbook.md', data: HANDBOOK });
      await addDoc(app, { token, kbId, fileName: '员工手册.md', data: CHINESE_DOC });
    });
    afterAll(async () => {
      await app.close();
    });

    async function rankOf(question: string, heading: string): Promise<number> {
      const response = await retrieve(app, { token, kbId, query: question, topK: 5 });
      expect(response.status).toBe(200);
      return response.body.results.findIndex((result: any) => result.heading_path.at(-1) === heading);
    }

    it('finds the answering section for paraphrased English questions', async () => {
      const ranks = await Promise.all(QUESTIONS.map(([question, heading]) => rankOf(question, heading)));
      const report = QUESTIONS.map(([question], index) => `${ranks[index]} ${question}`).join('\n');
      const inTop5 = ranks.filter((rank) => rank >= 0).length;
      const first = ranks.filter((rank) => rank === 0).length;
      expect(inTop5, report).toBeGreaterThanOrEqual(QUESTIONS.length - 1);
      expect(first, report).toBeGreaterThanOrEqual(Math.ceil(QUESTIONS.length / 2));
    });

    it('finds Chinese sections through CJK bigrams', async () => {
      for (const [question, heading] of CHINESE_QUESTIONS) expect(await rankOf(question, heading), question).toBe(0);
    });

    it('returns scores in 0..1, best first, with citations', async () => {
      const response = await retrieve(app, { token, kbId, query: 'parking permits for the garage', topK: 3 });
      const scores = response.body.results.map((result: any) => result.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(scores.every((score: number) => score > 0 && score <= 1)).toBe(true);
      expect(response.body.results[0]).toMatchObject({ doc_name: 'handbook.md', heading_path: ['Staff handbook', 'Parking'], position: expect.any(Number) });
    });
  });
});
