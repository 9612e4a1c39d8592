import mammoth from 'mammoth';
import { ParseFailure, type ParseLimits, type ParsedSection } from './document-parser.js';
import { parseHtml } from './html-parser.js';
import { precheckZip, readZipEntry } from './zip-precheck.js';

/** XML parts mammoth reads; a DOCTYPE in any of them could declare entities (billion laughs, XXE). */
const isXmlPart = (name: string) => name.endsWith('.xml') || name.endsWith('.rels');

/**
 * DOCX → HTML through mammoth → sections. The ZIP is checked first (sizes, entries, ratio,
 * ZIP64), every XML part is inflated within its declared size and refused if it declares a
 * DOCTYPE, and images are dropped instead of inlined as data URIs.
 */
export async function parseDocx(bytes: Uint8Array, limits: ParseLimits): Promise<ParsedSection[]> {
  const zip = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = precheckZip(zip, limits.docx);
  if (!entries.some((entry) => entry.name === 'word/document.xml')) throw new ParseFailure('unprocessable', '无效的 DOCX 文件: 缺少 word/document.xml');
  for (const entry of entries.filter((candidate) => isXmlPart(candidate.name))) {
    const head = readZipEntry(zip, entry).subarray(0, 4096).toString('utf8');
    if (/<!DOCTYPE|<!ENTITY/i.test(head)) throw new ParseFailure('unprocessable', `无效的 DOCX 文件: ${entry.name} 含有 DOCTYPE`);
  }
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: zip },
      { convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })), externalFileAccess: false },
    );
    html = result.value;
  } catch {
    throw new ParseFailure('unprocessable', '无效的 DOCX 文件: 无法读取文档内容');
  }
  return parseHtml(html, limits.maxTextChars);
}
