/**
 * Porter stemmer step 1 (M.F. Porter, 1980, "An algorithm for suffix stripping", steps 1a–1c):
 * folds plurals and -ed/-ing inflections so "resetting", "resets" and "reset" index alike. The
 * later steps (derivational suffixes) are left out: they merge words that differ in meaning.
 */
const VOWEL = /[aeiou]/;

function isConsonant(word: string, index: number): boolean {
  const char = word[index] ?? '';
  if (VOWEL.test(char)) return false;
  if (char === 'y') return index === 0 || !isConsonant(word, index - 1);
  return true;
}

/** Porter's m: the number of vowel-consonant sequences. */
function measure(stem: string): number {
  let count = 0;
  let previousVowel = false;
  for (let index = 0; index < stem.length; index++) {
    const vowel = !isConsonant(stem, index);
    if (previousVowel && !vowel) count++;
    previousVowel = vowel;
  }
  return count;
}

const hasVowel = (stem: string) => Array.from(stem).some((_, index) => !isConsonant(stem, index));
const endsDoubleConsonant = (stem: string) => stem.length >= 2 && stem.at(-1) === stem.at(-2) && isConsonant(stem, stem.length - 1);
/** *o: consonant-vowel-consonant, the last not w, x or y (hop, not hoop). */
const endsCvc = (stem: string) =>
  stem.length >= 3 && isConsonant(stem, stem.length - 3) && !isConsonant(stem, stem.length - 2) && isConsonant(stem, stem.length - 1) && !/[wxy]$/.test(stem);

function step1a(word: string): string {
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('ies')) return word.slice(0, -2);
  if (word.endsWith('ss')) return word;
  if (word.endsWith('s') && !word.endsWith('us') && !word.endsWith('is')) return word.slice(0, -1);
  return word;
}

function step1b(word: string): string {
  if (word.endsWith('eed')) return measure(word.slice(0, -3)) > 0 ? word.slice(0, -1) : word;
  const suffix = word.endsWith('ed') ? 'ed' : word.endsWith('ing') ? 'ing' : undefined;
  if (!suffix) return word;
  const stem = word.slice(0, -suffix.length);
  if (!hasVowel(stem)) return word;
  if (/(at|bl|iz)$/.test(stem)) return `${stem}e`;
  if (endsDoubleConsonant(stem) && !/[lsz]$/.test(stem)) return stem.slice(0, -1);
  if (measure(stem) === 1 && endsCvc(stem)) return `${stem}e`;
  return stem;
}

function step1c(word: string): string {
  return word.endsWith('y') && hasVowel(word.slice(0, -1)) ? `${word.slice(0, -1)}i` : word;
}

/** Stems a lower-case ASCII word; other words are returned unchanged. */
export function stemEnglish(word: string): string {
  if (word.length <= 3 || !/^[a-z]+$/.test(word)) return word;
  return step1c(step1b(step1a(word)));
}
