import type { ParsedSection } from './parsers/document-parser.js';

export interface ChunkerOptions {
  /** Largest chunk in characters. */
  readonly size: number;
  /** Characters of the previous chunk repeated at the start of the next one. */
  readonly overlap: number;
}

/** A piece of a document small enough to embed, with what a citation needs. */
export interface TextChunk {
  readonly content: string;
  readonly headingPath: readonly string[];
  /** 0-based order of the chunk in its document. */
  readonly position: number;
  readonly page?: number | undefined;
}

/** Sentence terminators: CJK ones end a sentence anywhere; Latin ones only before whitespace. */
const CJK_ENDS = '。！？；';
const LATIN_ENDS = '.!?;';
/** Closing quotes and brackets (and repeated terminators) stay with the sentence they close. */
const CLOSERS = /[。！？；!?.”’」』）)"'\]]/u;
/** Soft break points inside an over-long sentence: CJK and Latin commas, then any whitespace. */
const SOFT_BREAK = /[，、,：:]\s*|\s+/gu;

function sentenceEnd(text: string, index: number): number {
  const char = text[index] ?? '';
  const isCjkEnd = CJK_ENDS.includes(char) || char === '\n';
  if (!isCjkEnd && !LATIN_ENDS.includes(char)) return -1;
  let end = index + 1;
  while (end < text.length && CLOSERS.test(text[end] ?? '')) end++;
  // "3.14" and "example.com" are not sentence ends: a Latin terminator needs whitespace (or the end) after it.
  if (!isCjkEnd && end < text.length && !/\s/.test(text[end] ?? '')) return -1;
  while (end < text.length && /\s/.test(text[end] ?? '')) end++;
  return end;
}

/** Lossless: the sentences concatenated are the paragraph. */
export function splitSentences(paragraph: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (let index = 0; index < paragraph.length; index++) {
    const end = sentenceEnd(paragraph, index);
    if (end < 0) continue;
    sentences.push(paragraph.slice(start, end));
    start = end;
    index = end - 1;
  }
  if (start < paragraph.length) sentences.push(paragraph.slice(start));
  return sentences.filter((sentence) => sentence.trim() !== '');
}

/** Cuts text longer than `size` at the last soft break within the limit (or hard at `size`). */
function splitLong(text: string, size: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > size) {
    let cut = 0;
    for (const match of rest.slice(0, size + 1).matchAll(SOFT_BREAK)) {
      const end = match.index + match[0].length;
      if (end <= size && end > size / 2) cut = end;
    }
    if (cut === 0) cut = size;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.trim() !== '') pieces.push(rest);
  return pieces;
}

/** Units no longer than `size`: whole paragraphs when they fit, else sentences, else soft-broken pieces. */
function unitsOf(text: string, size: number): { text: string; endsParagraph: boolean }[] {
  const units: { text: string; endsParagraph: boolean }[] = [];
  for (const paragraph of text.split(/\n{2,}/)) {
    const pieces = paragraph.length <= size ? [paragraph] : splitSentences(paragraph).flatMap((sentence) => splitLong(sentence, size));
    pieces.forEach((piece, index) => units.push({ text: piece, endsParagraph: index === pieces.length - 1 }));
  }
  return units;
}

const isWordChar = (char: string | undefined) => char !== undefined && /[\p{L}\p{N}]/u.test(char) && !/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(char);

/** The last `overlap` characters of a chunk, moved forward so they do not start mid-word. */
function tailOf(text: string, overlap: number): string {
  if (overlap <= 0 || text.length === 0) return '';
  if (text.length <= overlap) return text;
  let start = text.length - overlap;
  if (isWordChar(text[start - 1]) && isWordChar(text[start])) {
    const space = text.slice(start).search(/\s/);
    if (space >= 0) start += space;
  }
  return text.slice(start).trimStart();
}

/** Latin text needs a space between the carried tail and the next unit; CJK text does not. */
function joinOverlap(carried: string, next: string): string {
  const needsSpace = !/\s$/.test(carried) && (isWordChar(carried.at(-1)) || /[.!?;,:]$/.test(carried));
  return `${carried}${needsSpace ? ' ' : ''}${next}`;
}

/**
 * Splits sections into chunks of at most `size` characters that respect structure: a chunk never
 * spans two headings (sections), paragraphs are kept whole when they fit, then sentences, and
 * each chunk after the first of a section begins with up to `overlap` characters of the one
 * before. Chunks are trimmed; empty ones are dropped.
 */
export function chunkSections(sections: readonly ParsedSection[], options: ChunkerOptions): TextChunk[] {
  const size = Math.max(1, options.size);
  const overlap = Math.min(Math.max(0, options.overlap), Math.floor(size / 2));
  const chunks: TextChunk[] = [];
  for (const section of sections) {
    let current = '';
    let hasNew = false;
    const emit = () => {
      const content = current.trim();
      if (hasNew && content !== '') chunks.push({ content, headingPath: section.headingPath, position: chunks.length, ...(section.page === undefined ? {} : { page: section.page }) });
      hasNew = false;
    };
    for (const unit of unitsOf(section.text, size)) {
      const joined = current === '' ? unit.text.trimStart() : current + unit.text;
      if (joined.trimEnd().length <= size) current = joined;
      else {
        emit();
        const carried = tailOf(current.trim(), Math.min(overlap, size - unit.text.trim().length));
        current = carried === '' ? unit.text.trimStart() : joinOverlap(carried, unit.text.trimStart());
        if (current.trimEnd().length > size) current = unit.text.trimStart();
      }
      hasNew = true;
      if (unit.endsParagraph && !current.endsWith('\n\n')) current = `${current.trimEnd()}\n\n`;
    }
    emit();
  }
  return chunks;
}

/** The text embedded and indexed for a chunk: its heading path, then its content. */
export function indexedTextOf(chunk: Pick<TextChunk, 'content' | 'headingPath'>): string {
  return chunk.headingPath.length === 0 ? chunk.content : `${chunk.headingPath.join(' / ')}\n${chunk.content}`;
}
