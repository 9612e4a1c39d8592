import type { ChunkerOptions, TextChunk } from '../chunker.js';

/** Document kinds we extract text from; the upload's extension picks one (SEEDS-SPEC §3.7). */
export type DocumentKind = 'txt' | 'md' | 'html' | 'docx' | 'pdf';

/** A run of text under one heading path (and, for PDFs, on one page). */
export interface ParsedSection {
  /** Headings that contain this text, outermost first. */
  readonly headingPath: readonly string[];
  /** Paragraphs separated by a blank line. */
  readonly text: string;
  readonly page?: number | undefined;
}

/** Bounds a parser enforces while it reads (RELIABILITY §4, "Document bombs"). */
export interface ParseLimits {
  readonly maxTextChars: number;
  readonly docx: { readonly maxUncompressedBytes: number; readonly maxEntries: number; readonly maxRatio: number };
  readonly pdf: { readonly maxPages: number };
}

/** What a parser worker is asked to do. `bytes` is transferred, not copied. */
export interface ParseJob {
  readonly kind: DocumentKind;
  readonly bytes: Uint8Array;
  readonly limits: ParseLimits;
  readonly chunking: ChunkerOptions & { readonly maxChunks: number };
}

/**
 * A chunk ready to embed and store, made in the worker: chunking and index terms of a large
 * document take hundreds of milliseconds, which must not block the main thread.
 */
export interface PreparedChunk extends TextChunk {
  /** The text embedded and indexed (heading path, then content). */
  readonly indexedText: string;
  /** Its index terms (the `lex` column). */
  readonly lex: string;
}

/** Why a document was refused; the codes map to SwitchboardError codes on the main thread. */
export type ParseFailureCode = 'unprocessable' | 'payload_too_large' | 'bad_request';

export type ParseOutcome =
  | { readonly ok: true; readonly chunks: PreparedChunk[] }
  | { readonly ok: false; readonly code: ParseFailureCode; readonly message: string };

/** Thrown inside parsers; carried back to the main thread as a ParseOutcome. */
export class ParseFailure extends Error {
  constructor(
    readonly code: ParseFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'ParseFailure';
  }
}

/** Joins text that was built up piece by piece and enforces the extracted-text cap. */
export class TextBudget {
  private used = 0;

  constructor(private readonly maxChars: number) {}

  take(text: string): string {
    this.used += text.length;
    if (this.used > this.maxChars) throw new ParseFailure('payload_too_large', `文档文本超过上限 (${this.maxChars} 字符)`);
    return text;
  }
}
