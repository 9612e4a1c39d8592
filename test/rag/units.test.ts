import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkSections, splitSentences } from '../../src/rag/chunker.js';
import { sanitizeFileName } from '../../src/rag/file-name.js';
import { groundedPrompt } from '../../src/rag/grounded-prompt.js';
import { contentMatchesKind, decodeText, extensionOf } from '../../src/rag/parsers/file-type.js';
import { parseMarkdown } from '../../src/rag/parsers/markdown-parser.js';
import { precheckZip } from '../../src/rag/parsers/zip-precheck.js';
import { stemEnglish } from '../../src/rag/retrieval/english-stem.js';
import { fuseRankings } from '../../src/rag/retrieval/fuse-scores.js';
import { lexicalTerms } from '../../src/rag/retrieval/lexical-terms.js';
import { docxOf, zipOf } from './documents.js';

const ZIP_LIMITS = { maxUncompressedBytes: 1024 * 1024, maxEntries: 10, maxRatio: 100 };

describe('chunker', () => {
  const words = fc.constantFrom('alpha', 'beta', 'gamma', 'delta', '知识', '库', 'omega.', 'end!', 'why?', '结束。', '好；', '\n', '\n\n');
  const text = fc.array(words, { minLength: 1, maxLength: 400 }).map((parts) => parts.join(' '));
  const sizes = fc.record({ size: fc.integer({ min: 20, max: 300 }), overlap: fc.integer({ min: 0, max: 60 }) });

  it('never exceeds the chunk size and loses no word (property)', () => {
    fc.assert(
      fc.property(text, sizes, (input, options) => {
        const chunks = chunkSections([{ headingPath: ['H'], text: input }], options);
        for (const chunk of chunks) expect(chunk.content.length).toBeLessThanOrEqual(options.size);
        const seen = new Set(chunks.flatMap((chunk) => chunk.content.split(/\s+/)));
        for (const word of input.split(/\s+/).filter(Boolean)) expect(seen.has(word) || chunks.some((chunk) => chunk.content.includes(word))).toBe(true);
        chunks.forEach((chunk, index) => expect(chunk.position).toBe(index));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps paragraphs whole when they fit, splits on CJK and Latin sentence ends, and overlaps', () => {
    const paragraph = '第一句话很长很长。第二句话也很长！第三句呢？第四句；最后一句';
    expect(splitSentences(paragraph)).toEqual(['第一句话很长很长。', '第二句话也很长！', '第三句呢？', '第四句；', '最后一句']);
    expect(splitSentences('Pi is 3.14 exactly. Next one! And "quoted." Done')).toEqual(['Pi is 3.14 exactly. ', 'Next one! ', 'And "quoted." ', 'Done']);
    const chunks = chunkSections([{ headingPath: ['A', 'B'], text: 'Short first paragraph.\n\nOne two three four five six. Seven eight nine ten eleven twelve.' }], { size: 40, overlap: 12 });
    expect(chunks.map((chunk) => chunk.content)).toEqual(['Short first paragraph.', 'paragraph. One two three four five six.', 'six. Seven eight nine ten eleven twelve.']);
    expect(chunks.every((chunk) => chunk.headingPath.join('/') === 'A/B')).toBe(true);
  });

  it('never merges two sections and keeps their page numbers', () => {
    const chunks = chunkSections([{ headingPath: [], text: 'page one', page: 1 }, { headingPath: [], text: 'page two', page: 2 }], { size: 500, overlap: 50 });
    expect(chunks).toEqual([
      { content: 'page one', headingPath: [], position: 0, page: 1 },
      { content: 'page two', headingPath: [], position: 1, page: 2 },
    ]);
  });
});

describe('lexical terms', () => {
  it('bigrams CJK runs, stems English and drops stop words', () => {
    expect(lexicalTerms('知识库 的 Resetting passwords, ＡＢＣ!')).toEqual(['知识', '识库', '的', 'reset', 'password', 'abc']);
    expect(lexicalTerms('abc知识库def')).toEqual(['abc', '知识', '识库', 'def']);
    expect(['caresses', 'ponies', 'cats', 'agreed', 'plastered', 'motoring', 'hopping', 'filing', 'happy'].map(stemEnglish)).toEqual(['caress', 'poni', 'cat', 'agree', 'plaster', 'motor', 'hop', 'file', 'happi']);
  });

  it('only ever yields letters and digits (safe to quote in FTS5 and tsquery)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (input) => lexicalTerms(input).every((term) => /^[\p{L}\p{N}]+$/u.test(term))), { numRuns: 300 });
  });
});

describe('file checks', () => {
  it('reads extensions, magic bytes and text encodings', () => {
    expect(extensionOf('a/b/Report.PDF')).toBe('pdf');
    expect(extensionOf('.bashrc')).toBe('');
    expect(contentMatchesKind('pdf', Buffer.from('junk\n%PDF-1.4'))).toBe(true);
    expect(contentMatchesKind('txt', Buffer.from('%PDF-1.4'))).toBe(false);
    expect(contentMatchesKind('txt', Buffer.from('\xff\xfeh\x00i\x00', 'latin1'))).toBe(true);
    expect(decodeText(Buffer.from('\xff\xfeh\x00i\x00', 'latin1'))).toBe('hi');
    expect(decodeText(Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0xff]))).toBe('a\ufffd');
  });

  it('sanitises file names into metadata', () => {
    expect(sanitizeFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFileName('a\u0000b\u202e.txt')).toBe('ab.txt');
    expect(sanitizeFileName('...')).toBe('document');
  });

  it('reads a real ZIP directory and refuses bombs', () => {
    expect(precheckZip(docxOf([{ text: 'hello' }]), ZIP_LIMITS).map((entry) => entry.name)).toContain('word/document.xml');
    expect(() => precheckZip(zipOf([{ name: 'a', data: 'x'.repeat(2 * 1024 * 1024) }]), ZIP_LIMITS)).toThrow(/解压后超过/);
    expect(() => precheckZip(zipOf([{ name: 'a', data: 'x'.repeat(500_000) }]), ZIP_LIMITS)).toThrow(/压缩比/);
    expect(() => precheckZip(Buffer.from('PK\x03\x04 this is not a zip archive at all'), ZIP_LIMITS)).toThrow(/找不到 ZIP 目录/);
  });

  it('survives mutated DOCX bytes (property): a ParseFailure or entries, never another error', () => {
    const valid = docxOf([{ text: 'hello world' }]);
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.nat(valid.length - 1), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }), (mutations) => {
        const bytes = Buffer.from(valid);
        for (const { at, byte } of mutations) bytes[at] = byte;
        try {
          precheckZip(bytes, ZIP_LIMITS);
        } catch (error) {
          expect((error as Error).name).toBe('ParseFailure');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('prompt, fusion, markdown', () => {
  it("builds seed 002's prompt byte for byte", () => {
    expect(groundedPrompt('Q?', [{ docName: 'a.txt', content: 'A' }, { docName: 'b.md', content: 'B' }])).toBe('以下是与问题相关的背景信息：\n\n[文档1: a.txt]\nA\n\n[文档2: b.md]\nB\n\n请基于上述信息回答以下问题：\n\nQ?');
  });

  it('fuses ranks into 0..1 scores', () => {
    const fused = fuseRankings([[{ chunkId: 1, score: 9 }, { chunkId: 2, score: 5 }], [{ chunkId: 2, score: 0.9 }, { chunkId: 3, score: 0.8 }]], { k: 60, limit: 10 });
    expect(fused.map((hit) => hit.chunkId)).toEqual([2, 1, 3]);
    expect(fused[0]!.score).toBeLessThanOrEqual(1);
    expect(fuseRankings([[{ chunkId: 7, score: 1 }], []], { k: 60, limit: 5 })).toEqual([{ chunkId: 7, score: 1 }]);
  });

  it('reads markdown headings, setext headings and code fences', () => {
    expect(parseMarkdown('Title\n=====\n\nIntro [link](http://x) and **bold**.\n\n## Sub\n\n```\n# not a heading\n```\n', 10_000)).toEqual([
      { headingPath: ['Title'], text: 'Intro link and bold.' },
      { headingPath: ['Title', 'Sub'], text: '# not a heading' },
    ]);
  });
});
