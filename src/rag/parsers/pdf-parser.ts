import { getDocumentProxy } from 'unpdf';
import { ParseFailure, TextBudget, type ParseLimits, type ParsedSection } from './document-parser.js';
import { tidyText } from './section-builder.js';

interface TextItemLike {
  readonly str?: string;
  readonly hasEOL?: boolean;
}

async function openPdf(bytes: Uint8Array) {
  try {
    // CVE-2024-4367: no eval of font programs; no font loading or system fonts in the worker either.
    return await getDocumentProxy(bytes, { isEvalSupported: false, disableFontFace: true, useSystemFonts: false, stopAtErrors: false, verbosity: 0 });
  } catch (error) {
    const name = (error as { name?: string }).name;
    throw new ParseFailure('unprocessable', name === 'PasswordException' ? '无效的 PDF 文件: 文档已加密' : '无效的 PDF 文件: 无法解析');
  }
}

/**
 * PDF → one section per page (page numbers kept for citations) through unpdf's serverless
 * pdf.js. The page count is checked before any page is read; text is capped as it is read.
 */
export async function parsePdf(bytes: Uint8Array, limits: ParseLimits): Promise<ParsedSection[]> {
  const pdf = await openPdf(bytes);
  try {
    if (pdf.numPages > limits.pdf.maxPages) throw new ParseFailure('payload_too_large', `文档过大: PDF 超过 ${limits.pdf.maxPages} 页`);
    const budget = new TextBudget(limits.maxTextChars);
    const sections: ParsedSection[] = [];
    for (let pageNumber = 1; pageNumber <= pdf.numPages; pageNumber++) {
      const page = await pdf.getPage(pageNumber);
      const content = await page.getTextContent();
      const raw = (content.items as TextItemLike[]).map((item) => (item.str ?? '') + (item.hasEOL ? '\n' : '')).join('');
      page.cleanup();
      const paragraphs = raw.split(/\n[\t ]*\n/).map(tidyText).filter((paragraph) => paragraph !== '');
      if (paragraphs.length > 0) sections.push({ headingPath: [], text: budget.take(paragraphs.join('\n\n')), page: pageNumber });
    }
    return sections;
  } finally {
    await pdf.destroy();
  }
}
