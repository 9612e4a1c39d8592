import { TextBudget, type ParsedSection } from './document-parser.js';
import { SectionBuilder } from './section-builder.js';

const ATX_HEADING = /^ {0,3}(#{1,6})[\t ]+(.*?)(?:[\t ]+#+)?[\t ]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[\t ]*$/;
const FENCE = /^ {0,3}(```|~~~)/;

/** Markdown inline syntax → its visible text (links keep their label, images their alt text). */
export function stripInlineMarkdown(line: string): string {
  return line
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/<[^>\n]{1,200}>/g, ' ')
    .replace(/(\*\*|__|~~|`+)/g, '')
    .replace(/(^|[\s(])[*_]([^*_\n]+)[*_](?=[\s).,;:!?]|$)/g, '$1$2')
    .replace(/^ {0,3}>[\t ]?/, '')
    .replace(/^ {0,3}(?:[-*+]|\d{1,9}[.)])[\t ]+/, '')
    .replace(/^\s*\|/, '')
    .replace(/\|\s*$/, '')
    .replace(/\s*\|\s*/g, ' ');
}

/** CommonMark-ish: ATX and setext headings, fenced code kept verbatim, blank-line paragraphs. */
export function parseMarkdown(text: string, maxTextChars: number): ParsedSection[] {
  const builder = new SectionBuilder(new TextBudget(maxTextChars));
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    builder.paragraph(paragraph.join('\n'));
    paragraph = [];
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const fenceMatch = FENCE.exec(line);
    if (fence !== undefined) {
      if (fenceMatch?.[1] === fence) {
        fence = undefined;
        flush();
      } else paragraph.push(line);
      continue;
    }
    if (fenceMatch) {
      flush();
      fence = fenceMatch[1];
      continue;
    }
    const atx = ATX_HEADING.exec(line);
    if (atx) {
      flush();
      builder.heading(atx[1]?.length ?? 1, stripInlineMarkdown(atx[2] ?? ''));
      continue;
    }
    const underline = SETEXT_UNDERLINE.exec(lines[index + 1] ?? '');
    if (underline && paragraph.length === 0 && line.trim() !== '') {
      builder.heading(underline[1]?.startsWith('=') ? 1 : 2, stripInlineMarkdown(line));
      index++;
      continue;
    }
    if (line.trim() === '' || /^ {0,3}([-*_])( *\1){2,} *$/.test(line)) flush();
    else paragraph.push(stripInlineMarkdown(line));
  }
  flush();
  return builder.finish();
}
