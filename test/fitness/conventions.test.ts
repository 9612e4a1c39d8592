import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function filesUnder(folder: string, extension: RegExp): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, folder))) {
    const path = join(folder, entry);
    if (statSync(join(ROOT, path)).isDirectory()) found.push(...filesUnder(path, extension));
    else if (extension.test(entry)) found.push(path);
  }
  return found;
}

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('conventions (STYLE.md §12)', () => {
  it('vendor names appear only in the upstream profiles table', () => {
    // Seed-defined model names (seed 002's `zhipu-embedding-3`) are data, not vendor branches.
    const vendor = /\b(zhipu|bigmodel|ollama|vllm|anthropic|azure|bedrock|mistral)\b(?!-embedding)/i;
    const offenders = filesUnder('src', /\.ts$/)
      .filter((path) => !path.endsWith('gateway/upstream-profiles.ts'))
      .flatMap((path) =>
        read(path)
          .split('\n')
          .map((line, index) => ({ line, index }))
          .filter(({ line }) => vendor.test(line) && !/^\s*(\/\/|\*|\/\*)/.test(line))
          .map(({ index }) => `${path}:${index + 1}`),
      );
    expect(offenders).toEqual([]);
  });

  it('no focused tests and no skip without a reason', () => {
    const offenders: string[] = [];
    for (const path of filesUnder('test', /\.test\.ts$/)) {
      const text = read(path);
      if (/\b(describe|it|test)\.only\(/.test(text)) offenders.push(`${path}: .only`);
      // A conditional skip must be tied to a reason (requireService / requireChromium status).
      for (const match of text.matchAll(/\b(?:describe|it|test)\.skip(If)?\(([^)]*)\)/g)) {
        if (!match[1] || !/available|reason|status/i.test(match[2] ?? '')) offenders.push(`${path}: ${match[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('only src/config reads process.env and process.argv', () => {
    const offenders = filesUnder('src', /\.ts$/)
      .filter((path) => !path.startsWith('src/config/'))
      .filter((path) => /process\.(env|argv)\b/.test(read(path)));
    expect(offenders).toEqual([]);
  });

  it('tests never mock our own modules', () => {
    const offenders = filesUnder('test', /\.ts$/).filter((path) => /\bvi\.(mock|doMock)\(/.test(read(path)) && !path.endsWith('conventions.test.ts'));
    expect(offenders).toEqual([]);
  });

  it('BENCHMARKS.md was produced by the committed bench command', () => {
    const text = read('BENCHMARKS.md');
    expect(text).toMatch(/npm run bench/);
    expect(JSON.parse(read('package.json')).scripts.bench).toBeDefined();
  });
});
