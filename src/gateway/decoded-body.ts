import { constants, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { BodySource } from './target.js';

/** The content codings undici's own decompress interceptor knows, minus zstd (Node ≥ 22.15 only). */
/**
 * Flushed as browsers and undici's fetch do: an empty body (an answer labelled gzip with nothing
 * in it) decodes to nothing instead of failing "unexpected end of file". A body cut short is still
 * an error: undici reports the cut itself.
 */
const ZLIB_FLUSH = { flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH };
const BROTLI_FLUSH = { flush: constants.BROTLI_OPERATION_FLUSH, finishFlush: constants.BROTLI_OPERATION_FLUSH };

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: () => createGunzip(ZLIB_FLUSH),
  'x-gzip': () => createGunzip(ZLIB_FLUSH),
  deflate: () => createInflate(ZLIB_FLUSH),
  br: () => createBrotliDecompress(BROTLI_FLUSH),
};

/**
 * A body an upstream content-encoded although it was asked for `identity` (upstream-target.ts),
 * decoded, so the taps read its usage and text, the masking finds our key in an error body, and
 * the client gets plain bytes (undecodable, an in-band error appended to gzip, and a key it could
 * inflate). `headers` loses the coding. An unknown or stacked coding is
 * left as it came. Back-pressure and destroy reach the source; a corrupt body, or one undici saw cut, is an error.
 */
export function decodedBody(source: BodySource, headers: Record<string, string>, status: number): BodySource {
  const coding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  const create = DECODERS[coding];
  if (create !== undefined || coding === 'identity') delete headers['content-encoding'];
  // A 204 or 304 has no body to decode. (Content-Length never reaches here: filterHeaders drops it.)
  if (create === undefined || status === 204 || status === 304) return source;
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
