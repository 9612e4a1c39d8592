/**
 * Issue 5: the in-process RAG engine, end to end over HTTP against Switchboard in its own process
 * (SQLite by default; `--database-url postgres://…` for PostgreSQL). Figures: PDF ingest in
 * pages/s (parse in the worker + chunk + embed with the offline model + store), bulk ingest in
 * chunks/s, retrieval latency p50/p99 and recall@5 of paraphrased questions hidden among 10k
 * distractor chunks (and 100k with --full). Knobs: --sizes 10000,100000 --pdf-pages 50
 * --query-rounds 8 --database-url URL.
 */
import { pdfOf } from '../../test/rag/documents.js';
import { machineLine } from '../lib/machine.js';
import { integer, markdownTable, ms } from '../lib/markdown.js';
import { FACTS, distractorParagraph, seededRandom } from '../lib/rag-retrieval-set.js';
import { numberFlag, type BenchOptions, type MarkdownSection, type Scenario } from '../lib/scenario.js';
import { Samples, median } from '../lib/stats.js';
import { startSwitchboard, type SwitchboardServer } from '../lib/switchboard-server.js';

/** Paragraphs per uploaded distractor document (one chunk each at the default 500-char chunk size). */
const PARAGRAPHS_PER_DOC = 2_000;
const PARAGRAPH_CHARS = 440;

interface Client {
  readonly origin: string;
  readonly token: string;
}

async function json(response: Response): Promise<any> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function login(origin: string): Promise<Client> {
  const credentials = JSON.stringify({ username: `bench-${Date.now()}`, password: 'bench-password' });
  const headers = { 'content-type': 'application/json' };
  await json(await fetch(`${origin}/api/users/register`, { method: 'POST', headers, body: credentials }));
  const { token } = await json(await fetch(`${origin}/api/users/login`, { method: 'POST', headers, body: credentials }));
  return { origin, token };
}

const post = (client: Client, path: string, body: unknown) =>
  fetch(`${client.origin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(json);

async function newKb(client: Client, name: string): Promise<string> {
  return (await post(client, '/api/rag/kb/create', { kb_name: name })).kb_id;
}

async function upload(client: Client, kbId: string, file: { name: string; data: Buffer | string }): Promise<number> {
  const form = new FormData();
  form.append('kb_id', kbId);
  form.append('file', new Blob([file.data]), file.name);
  const body = await json(await fetch(`${client.origin}/api/rag/doc/upload`, { method: 'POST', headers: { authorization: `Bearer ${client.token}` }, body: form }));
  return Number(/添加 (\d+) 个/.exec(body.message)?.[1] ?? NaN);
}

/** A PDF of `pages` pages of ~2,000 characters each (a typical printed page). */
function benchPdf(pages: number): Buffer {
  const random = seededRandom(7);
  return pdfOf(Array.from({ length: pages }, () => distractorParagraph(random, 2_000).match(/.{1,80}(\s|$)/g) ?? []));
}

async function measurePdfIngest(client: Client, options: { pages: number; rounds: number }): Promise<number> {
  const pdf = benchPdf(options.pages);
  const kbId = await newKb(client, 'pdf-ingest');
  const rates: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const started = performance.now();
    await upload(client, kbId, { name: `book-${round}.pdf`, data: pdf });
    rates.push(options.pages / ((performance.now() - started) / 1000));
  }
  return median(rates);
}

interface SizeResult {
  readonly chunks: number;
  readonly chunksPerSecond: number;
  readonly latency: ReturnType<Samples['summary']>;
  readonly recallAt5: number;
  readonly recallAt1: number;
}

async function measureSize(client: Client, options: { chunks: number; queryRounds: number; log: (line: string) => void }): Promise<SizeResult> {
  const kbId = await newKb(client, `kb-${options.chunks}`);
  const started = performance.now();
  // One section per fact: sections never share a chunk, so each passage is exactly one chunk.
  let stored = await upload(client, kbId, { name: 'facts.md', data: FACTS.map((fact, index) => `## Note ${String(index + 1)}\n\n${fact.passage}`).join('\n\n') });
  const random = seededRandom(options.chunks);
  for (let doc = 0; stored < options.chunks; doc++) {
    const paragraphs = Math.min(PARAGRAPHS_PER_DOC, options.chunks - stored);
    stored += await upload(client, kbId, { name: `distractors-${doc}.txt`, data: Array.from({ length: paragraphs }, () => distractorParagraph(random, PARAGRAPH_CHARS)).join('\n\n') });
    options.log(`   ${stored} chunks stored`);
  }
  const chunksPerSecond = stored / ((performance.now() - started) / 1000);
  const latency = new Samples();
  let hitsAt5 = 0;
  let hitsAt1 = 0;
  for (let round = 0; round < options.queryRounds; round++) {
    for (const fact of FACTS) {
      const begin = performance.now();
      const { results } = await post(client, '/api/rag/retrieve', { kb_id: kbId, query: fact.question, top_k: 5 });
      latency.add(performance.now() - begin);
      if (round > 0) continue;
      const rank = (results as { content: string }[]).findIndex((result) => result.content === fact.passage);
      if (rank >= 0) hitsAt5++;
      if (rank === 0) hitsAt1++;
    }
  }
  return { chunks: stored, chunksPerSecond, latency: latency.summary(), recallAt5: hitsAt5 / FACTS.length, recallAt1: hitsAt1 / FACTS.length };
}

async function runRag(options: BenchOptions): Promise<MarkdownSection> {
  const sizes = (options.flags.get('sizes') ?? (options.full ? '10000,100000' : '10000')).split(',').map(Number).filter((size) => size > 0);
  const pages = numberFlag(options, 'pdf-pages', 50);
  const queryRounds = Math.max(1, numberFlag(options, 'query-rounds', 8));
  const databaseUrl = options.flags.get('database-url');
  const machine = machineLine();
  let server: SwitchboardServer | undefined;
  try {
    server = await startSwitchboard({
      upstreamUrl: 'http://127.0.0.1:9/v1',
      gatewayKey: 'bench-key',
      extraConfig: { ...(databaseUrl ? { database: { url: databaseUrl } } : {}), chat: { bcryptCost: 4 } },
      log: options.log,
    });
    const client = await login(server.origin);
    options.log(`   PDF ingest (${pages} pages)`);
    const pagesPerSecond = await measurePdfIngest(client, { pages, rounds: options.full ? 5 : 3 });
    const results: SizeResult[] = [];
    for (const size of sizes) {
      options.log(`   corpus of ${size} chunks`);
      results.push(await measureSize(client, { chunks: size, queryRounds, log: options.log }));
    }
    const table = markdownTable(
      ['chunks in KB', 'bulk ingest (chunks/s)', 'retrieve p50 (ms)', 'retrieve p99 (ms)', 'recall@1', 'recall@5'],
      results.map((result) => [integer(result.chunks), integer(result.chunksPerSecond), ms(result.latency.p50), ms(result.latency.p99), result.recallAt1.toFixed(2), result.recallAt5.toFixed(2)]),
    );
    const store = databaseUrl ? 'PostgreSQL (brute-force cosine, no pgvector)' : 'SQLite (FTS5 + sqlite-vec)';
    return {
      title: 'RAG: ingest, retrieval latency and recall',
      body: [
        `Command: \`${options.command}\`. Machine: ${machine}. Store: ${store}. Embeddings: the offline \`local-glove-100d\` model through the gateway's /v1/embeddings.`,
        '',
        `PDF ingest (upload → worker parse → chunk → embed → store, ${pages}-page PDF of ~2,000 characters per page, median of rounds): **${pagesPerSecond.toFixed(1)} pages/s**.`,
        '',
        table,
        '',
        `Retrieval is hybrid (FTS lexical + vector, reciprocal-rank fusion), measured over HTTP one query at a time (${String(queryRounds * FACTS.length)} queries per size). Recall: ${String(FACTS.length)} paraphrased questions (bench/lib/rag-retrieval-set.ts) whose answer passage sits among generated distractor chunks.`,
      ].join('\n'),
    };
  } finally {
    await server?.stop();
  }
}

export const scenario: Scenario = {
  name: 'rag',
  description: 'RAG ingest pages/s, retrieval p50/p99 at 10k (100k with --full) chunks, recall@5',
  run: runRag,
};
