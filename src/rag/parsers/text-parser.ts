import { TextBudget, type ParsedSection } from './document-parser.js';
import { SectionBuilder } from './section-builder.js';

/** Plain text: paragraphs are separated by blank lines; there are no headings. */
export function parseText(text: string, maxTextChars: number): ParsedSection[] {
  const builder = new SectionBuilder(new TextBudget(maxTextChars));
  for (const paragraph of text.split(/\r?\n[\t \u3000]*\r?\n/)) builder.paragraph(paragraph);
  return builder.finish();
}
