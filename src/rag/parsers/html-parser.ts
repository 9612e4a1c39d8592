import { Parser } from 'htmlparser2';
import { TextBudget, type ParsedSection } from './document-parser.js';
import { SectionBuilder } from './section-builder.js';

/** Elements whose content is never document text (scripts are stored as nothing, never rendered). */
const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'head', 'svg', 'math', 'iframe', 'object', 'canvas', 'select', 'button']);
/** Elements that end a paragraph. */
const BLOCKS = new Set([
  'p', 'div', 'li', 'ul', 'ol', 'dl', 'dt', 'dd', 'tr', 'table', 'thead', 'tbody', 'section', 'article', 'aside', 'header',
  'footer', 'main', 'nav', 'blockquote', 'pre', 'figure', 'figcaption', 'hr', 'form', 'fieldset', 'details', 'summary', 'address', 'caption', 'body', 'html',
]);
const HEADING = /^h([1-6])$/;
const CELLS = new Set(['td', 'th']);
/** Inside a cell only these end the paragraph (a nested table's rows); a cell's own `<p>`s (mammoth writes them) do not. */
const ROW_BLOCKS = new Set(['tr', 'table', 'thead', 'tbody']);

/**
 * HTML (and mammoth's HTML for DOCX) → sections: h1–h6 set the heading path, block elements end
 * paragraphs, entities are decoded, hidden and executable content is dropped.
 */
export function parseHtml(html: string, maxTextChars: number): ParsedSection[] {
  const builder = new SectionBuilder(new TextBudget(maxTextChars));
  let text = '';
  let skipDepth = 0;
  let headingLevel = 0;
  let preDepth = 0;
  let cellDepth = 0;
  /** A row is one paragraph: block elements inside a cell only separate words. */
  const endsParagraph = (name: string) => BLOCKS.has(name) && (cellDepth === 0 || ROW_BLOCKS.has(name));
  const endParagraph = () => {
    if (headingLevel === 0) builder.paragraph(text);
    text = '';
  };
  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIPPED.has(name)) skipDepth++;
        if (skipDepth > 0) return;
        const heading = HEADING.exec(name);
        if (heading) {
          endParagraph();
          headingLevel = Number(heading[1]);
        } else if (endsParagraph(name)) endParagraph();
        else if (name === 'br') text += '\n';
        else if (CELLS.has(name) || BLOCKS.has(name)) text += ' ';
        if (name === 'pre') preDepth++;
        if (CELLS.has(name)) cellDepth++;
      },
      ontext(data) {
        if (skipDepth === 0) text += preDepth > 0 ? data : data.replace(/\s+/g, ' ');
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) {
          skipDepth = Math.max(0, skipDepth - 1);
          return;
        }
        if (skipDepth > 0) return;
        if (name === 'pre') preDepth = Math.max(0, preDepth - 1);
        if (CELLS.has(name)) cellDepth = Math.max(0, cellDepth - 1);
        if (HEADING.test(name) && headingLevel > 0) {
          builder.heading(headingLevel, text);
          headingLevel = 0;
          text = '';
        } else if (endsParagraph(name)) endParagraph();
        else if (BLOCKS.has(name)) text += ' ';
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  endParagraph();
  return builder.finish();
}
