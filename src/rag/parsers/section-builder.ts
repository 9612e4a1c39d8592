import { TextBudget, type ParsedSection } from './document-parser.js';

/** Page and vertical breaks end a line; other C0/C1 controls and DEL are not text (PostgreSQL refuses NUL). */
const LINE_BREAKING_CONTROLS = /[\v\f\u0085]/g;
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROLS = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g;

/** Drops control characters, collapses runs of spaces and tabs, trims each line, drops empty lines at the ends. */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(LINE_BREAKING_CONTROLS, '\n')
    .replace(CONTROLS, '')
    .split('\n')
    .map((line) => line.replace(/[\t \u00a0\u3000]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}

/**
 * Builds sections from a stream of headings and paragraphs: a heading closes the current section
 * and sets the path of the next one (a level-2 heading replaces the previous level-2 and drops
 * everything below it).
 */
export class SectionBuilder {
  private readonly levels: (string | undefined)[] = [];
  private paragraphs: string[] = [];
  private readonly sections: ParsedSection[] = [];
  private page: number | undefined;

  constructor(private readonly budget: TextBudget) {}

  heading(level: number, text: string): void {
    const title = tidyText(text).replace(/\n/g, ' ');
    if (title === '') return;
    this.flush();
    this.levels.length = Math.max(0, level - 1);
    this.levels[level - 1] = this.budget.take(title);
  }

  paragraph(text: string): void {
    const tidy = tidyText(text);
    if (tidy !== '') this.paragraphs.push(this.budget.take(tidy));
  }

  setPage(page: number): void {
    this.flush();
    this.page = page;
  }

  finish(): ParsedSection[] {
    this.flush();
    return this.sections;
  }

  private flush(): void {
    if (this.paragraphs.length === 0) return;
    const headingPath = this.levels.filter((title): title is string => title !== undefined);
    this.sections.push({ headingPath, text: this.paragraphs.join('\n\n'), ...(this.page === undefined ? {} : { page: this.page }) });
    this.paragraphs = [];
  }
}
