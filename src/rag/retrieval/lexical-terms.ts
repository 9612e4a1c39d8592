import { stemEnglish } from './english-stem.js';

/** Function words that match everything; leaving them out keeps lexical hits meaningful. */
const STOP_WORDS = new Set(
  ('a an and are as at be but by can could did do does for from had has have he her his how i if in into is it its ' +
    'me my no not of on or our she so than that the their them then there these they this those to us was we were ' +
    'what when where which who whom why will with would you your about after all also any been before being both ' +
    'each few more most other over same should some such only own too very just until up down out off again further once here')
    .split(' '),
);

/** Han, kana and Hangul: scripts written without spaces, indexed as overlapping character bigrams. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const TOKEN = /(?:(?=\p{L})[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])+|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{N}])+/gu;
/** Longest term kept; longer runs (hashes, base64) are cut, not dropped. */
const MAX_TERM_CHARS = 40;

function cjkBigrams(run: string): string[] {
  const chars = Array.from(run);
  if (chars.length === 1) return chars;
  return chars.slice(0, -1).map((char, index) => char + (chars[index + 1] ?? ''));
}

/**
 * Text → index terms, the same for documents and queries on both dialects: NFKC (full-width →
 * half-width), lower case, CJK runs as character bigrams (a single character stays a unigram),
 * other words stemmed (Porter step 1) without stop words. Every term is letters and digits only,
 * so it is safe to quote in FTS5 and tsquery syntax.
 */
export function lexicalTerms(text: string): string[] {
  const terms: string[] = [];
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(TOKEN)) {
    const token = match[0];
    if (CJK.test(token)) terms.push(...cjkBigrams(token));
    else if (!STOP_WORDS.has(token)) terms.push(stemEnglish(token.slice(0, MAX_TERM_CHARS)));
  }
  return terms;
}

/** The `lex` column: terms joined by spaces (FTS5 unicode61 and PG 'simple' split on them). */
export function lexicalText(text: string): string {
  return lexicalTerms(text).join(' ');
}

/** Distinct query terms, at most `limit` (a long question must not build a huge OR query). */
export function queryTerms(text: string, limit = 64): string[] {
  return [...new Set(lexicalTerms(text))].slice(0, limit);
}
