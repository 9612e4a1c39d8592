import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseLineTooLongError, SseParser, encodeSse, type SseEvent } from '../../src/platform/sse.js';

function parseAll(chunks: Uint8Array[]): SseEvent[] {
  const parser = new SseParser();
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return [...events, ...parser.end()];
}

/** Splits bytes at arbitrary positions, including inside UTF-8 sequences and CRLF pairs. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

const eventArbitrary = fc.record({
  event: fc.constantFrom('message', 'delta', 'done'),
  data: fc.string({ unit: 'binary', maxLength: 40 }).map((text) => text.replace(/[\r\n]/g, ' ')),
});

describe('SseParser', () => {
  it('yields the same events however the bytes are chunked (property)', () => {
    fc.assert(
      fc.property(fc.array(eventArbitrary, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'), (events, cuts, newline) => {
        const text = events.map((event) => encodeSse(event.data, event.event === 'message' ? undefined : event.event).replace(/\n/g, newline)).join('');
        const bytes = new TextEncoder().encode(text);
        const whole = parseAll([bytes]);
        expect(parseAll(split(bytes, cuts))).toEqual(whole);
        expect(whole.map((event) => ({ event: event.event, data: event.data }))).toEqual(events);
      }),
      { numRuns: 200 },
    );
  });

  it('gives what the walk over each character gives when events arrive whole, as a tap pushes them (property)', () => {
    const line = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }).map((text) => `data: ${text.replace(/[\r\n]/g, ' ')}`),
      fc.string({ unit: 'binary', maxLength: 12 }).map((text) => `data:${text.replace(/[\r\n]/g, ' ')}`),
      fc.constantFrom('id: 9', 'event: delta', ': keep-alive', 'data', 'retry: 5'),
    );
    // Each block may come after stray bytes (possibly half a UTF-8 sequence), as a broken upstream may send.
    const newline = fc.constantFrom('\n', '\r\n', '\r');
    const block = fc.record({ stray: fc.uint8Array({ maxLength: 2 }), lines: fc.array(fc.tuple(line, newline), { minLength: 1, maxLength: 3 }), end: newline });
    fc.assert(
      fc.property(fc.array(block, { maxLength: 8 }), (blocks) => {
        // One piece per block and one per run of stray bytes: whole events, and events right after a cut sequence.
        const pieces = blocks.flatMap(({ stray, lines, end }) => [Buffer.from(stray), Buffer.from(lines.map(([entry, eol]) => entry + eol).join('') + end)]);
        const reference = new SseParser();
        const expected = [...reference.push(new TextDecoder().decode(Buffer.concat(pieces))), ...reference.end()];
        expect(parseAll(pieces)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        parseAll(split(bytes, cuts));
      }),
      { numRuns: 200 },
    );
  });

  it('joins multi-line data, ignores comments, keeps ids', () => {
    const events = parseAll([new TextEncoder().encode(': keep-alive\n\nid: 7\nevent: x\ndata: a\ndata: b\n\n')]);
    expect(events).toEqual([{ event: 'x', data: 'a\nb', id: '7' }]);
  });

  it('refuses a line longer than its limit instead of growing without bound', () => {
    const parser = new SseParser({ maxLineBytes: 16 });
    expect(() => parser.push('data: ' + 'x'.repeat(64))).toThrow(SseLineTooLongError);
  });
});
