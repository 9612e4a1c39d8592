import type { RawData } from 'ws';

function chunksOf(data: RawData): readonly Buffer[] {
  if (Buffer.isBuffer(data)) return [data];
  return Array.isArray(data) ? data : [Buffer.from(data)];
}

/** A text WebSocket frame as a string, whichever of ws's three buffer shapes it arrived in. */
export function wsFrameText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.concat(chunksOf(data)).toString('utf8');
}

/** A frame's size in bytes, without copying it (checked for every frame of every worker stream). */
export function wsFrameBytes(data: RawData): number {
  if (Buffer.isBuffer(data)) return data.length;
  return chunksOf(data).reduce((total, chunk) => total + chunk.length, 0);
}

/** The first `limit` bytes of a frame as text (a character cut at the end becomes U+FFFD). */
export function wsFrameHead(data: RawData, limit: number): string {
  const head: Buffer[] = [];
  let kept = 0;
  for (const chunk of chunksOf(data)) {
    if (kept >= limit) break;
    const part = chunk.subarray(0, limit - kept);
    head.push(part);
    kept += part.length;
  }
  return Buffer.concat(head).toString('utf8');
}
