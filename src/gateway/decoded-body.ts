import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { BodySource } from './target.js';

/** The content codings undici's own decompress interceptor knows, minus zstd (Node ≥ 22.15 only). */
const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * A body an upstream content-encoded although it was asked for `identity` (upstream-target.ts),
 * decoded, so the taps read its usage and text, the masking finds our key in an error body, and
 * the client gets plain bytes (undecodable, an in-band error appended to gzip, and a key it could
 * inflate). `headers` loses the coding and the encoded length. An unknown or stacked coding is
 * left as it came. Back-pressure and destroy reach the source; a corrupt or cut body is an error.
 */
export function decodedBody(source: BodySource, headers: Record<string, string>): BodySource {
  const coding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  const create = DECODERS[coding];
  if (coding === 'identity') delete headers['content-encoding'];
  if (!create) return source;
  delete headers['content-encoding'];
  delete headers['content-length'];
  const decoder = create();
  let isOver = false;
  source.on('data', (chunk) => {
    if (!decoder.write(chunk)) source.pause();
  });
  decoder.on('drain', () => source.resume());
  source.once('end', () => {
    isOver = true;
    decoder.end();
  });
  source.on('error', (error) => {
    isOver = true;
    decoder.destroy(error);
  });
  decoder.once('close', () => {
    if (!isOver) source.destroy();
  });
  return decoder;
}
