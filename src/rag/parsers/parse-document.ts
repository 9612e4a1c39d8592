import { chunkSections, indexedTextOf } from '../chunker.js';
import { RAG_MESSAGES } from '../rag-messages.js';
import { lexicalText } from '../retrieval/lexical-terms.js';
import { ParseFailure, type ParseJob, type ParseOutcome, type ParsedSection, type PreparedChunk } from './document-parser.js';
import { parseDocx } from './docx-parser.js';
import { decodeText } from './file-type.js';
import { parseHtml } from './html-parser.js';
import { parseMarkdown } from './markdown-parser.js';
import { parsePdf } from './pdf-parser.js';
import { parseText } from './text-parser.js';

async function sectionsOf(job: ParseJob): Promise<ParsedSection[]> {
  switch (job.kind) {
    case 'txt':
      return parseText(decodeText(job.bytes), job.limits.maxTextChars);
    case 'md':
      return parseMarkdown(decodeText(job.bytes), job.limits.maxTextChars);
    case 'html':
      return parseHtml(decodeText(job.bytes), job.limits.maxTextChars);
    case 'docx':
      return parseDocx(job.bytes, job.limits);
    case 'pdf':
      return parsePdf(job.bytes, job.limits);
  }
}

/** Sections → chunks with their embedded text and index terms (no chunks: no text). */
function prepareChunks(sections: readonly ParsedSection[], chunking: ParseJob['chunking']): PreparedChunk[] {
  const chunks = chunkSections(sections, chunking);
  if (chunks.length === 0) throw new ParseFailure('unprocessable', RAG_MESSAGES.noText);
  if (chunks.length > chunking.maxChunks) throw new ParseFailure('payload_too_large', RAG_MESSAGES.tooManyChunks(chunking.maxChunks));
  return chunks.map((chunk) => {
    const indexedText = indexedTextOf(chunk);
    return { ...chunk, indexedText, lex: lexicalText(indexedText) };
  });
}

/** Runs the parser for the job's kind, then chunks; every failure becomes an outcome, never a throw. */
export async function parseDocument(job: ParseJob): Promise<ParseOutcome> {
  try {
    return { ok: true, chunks: prepareChunks(await sectionsOf(job), job.chunking) };
  } catch (error) {
    if (error instanceof ParseFailure) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: 'unprocessable', message: '无法解析文档' };
  }
}
