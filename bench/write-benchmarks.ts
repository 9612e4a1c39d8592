import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { MarkdownSection } from './lib/scenario.js';

const HEADER = `# Benchmarks

Figures from \`npm run bench\` (see bench/). Each section is rewritten only by its own scenario,
between its \`bench:<name>\` markers; everything outside the markers is kept as written.
Numbers depend on the machine and on whatever else ran on it: compare runs from the same
machine line only.
`;

const startMarker = (name: string) => `<!-- bench:${name}:start -->`;
const endMarker = (name: string) => `<!-- bench:${name}:end -->`;

/** The text of one scenario's block, markers included. */
export function renderSection(name: string, section: MarkdownSection): string {
  return `${startMarker(name)}\n## ${section.title}\n\n${section.body.trim()}\n${endMarker(name)}`;
}

/**
 * Replaces the block between `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`, or
 * appends it when the file has none yet; other scenarios' figures are left untouched.
 */
export function replaceSection(document: string, name: string, section: MarkdownSection): string {
  const block = renderSection(name, section);
  const start = document.indexOf(startMarker(name));
  const end = document.indexOf(endMarker(name));
  if (start !== -1 && end > start) return document.slice(0, start) + block + document.slice(end + endMarker(name).length);
  if (start !== -1 || end !== -1) throw new Error(`BENCHMARKS.md has a broken bench:${name} marker pair; fix it by hand`);
  return `${document.trimEnd()}\n\n${block}\n`;
}

const LOCK_ATTEMPTS = 200;
const LOCK_WAIT_MS = 50;
/** A lock older than this was left by a crashed run. */
const STALE_LOCK_MS = 60_000;

/** Two scenarios finishing at once must not drop each other's section (read-modify-write). */
function withLock(file: string, action: () => void): void {
  const lock = `${file}.lock`;
  for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
    try {
      closeSync(openSync(lock, 'wx'));
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      } catch {
        // Released between our two calls; try again.
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LOCK_WAIT_MS);
      continue;
    }
    try {
      action();
    } finally {
      rmSync(lock, { force: true });
    }
    return;
  }
  throw new Error(`${lock} is held by another run; remove it if no bench is running`);
}

/** Rewrites one section of the file in place (under a lock; write to a temp file, then rename). */
export function writeBenchmarks(file: string, name: string, section: MarkdownSection): void {
  withLock(file, () => {
    const current = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
    const next = replaceSection(current, name, section);
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, next.endsWith('\n') ? next : `${next}\n`);
    renameSync(temp, file);
  });
}
