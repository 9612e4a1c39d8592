import type { RawData } from 'ws';

/** A text WebSocket frame as a string, whichever of ws's three buffer shapes it arrived in. */
export function wsFrameText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
}
