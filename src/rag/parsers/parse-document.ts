import { ParseFailure, type ParseJob, type ParseOutcome, type ParsedSection } from './document-parser.js';
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

/** Runs the parser for the job's kind; every failure becomes an outcome, never a throw. */
export async function parseDocument(job: ParseJob): Promise<ParseOutcome> {
  try {
    return { ok: true, sections: await sectionsOf(job) };
  } catch (error) {
    if (error instanceof ParseFailure) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: 'unprocessable', message: '无法解析文档' };
  }
}
