import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * RELIABILITY §2.2 LLM05: the page renders model output as text only, and this policy makes
 * sure nothing else can run: no inline script or style, no third-party origin, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Every file the page has, by URL. Served as-is: no build step (STYLE.md §3 browser/web). */
const PAGES = [
  { url: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/ui/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { url: '/ui/conv-api.js', file: 'conv-api.js', type: 'text/javascript; charset=utf-8' },
  { url: '/ui/style.css', file: 'style.css', type: 'text/css; charset=utf-8' },
] as const;

/**
 * `src/browser/web` beside this module when run from source (tsx, vitest); from `dist/browser/`
 * the same folder of the source tree, since tsc does not copy non-TS files.
 */
function webDirectory(): string {
  const candidates = [new URL('./web/', import.meta.url), new URL('../../src/browser/web/', import.meta.url)];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(`${path}index.html`)) return path;
  }
  throw new Error(`the browser page files are missing; looked in ${candidates.map((candidate) => fileURLToPath(candidate)).join(' and ')}`);
}

/** The chat page at `/` and its two assets under `/ui/`, read once at start. */
export function registerWebPageRoutes(app: FastifyInstance): void {
  const directory = webDirectory();
  for (const page of PAGES) {
    const body = readFileSync(`${directory}${page.file}`);
    app.get(page.url, async (_request, reply) =>
      reply
        .type(page.type)
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache')
        .send(body),
    );
  }
}
