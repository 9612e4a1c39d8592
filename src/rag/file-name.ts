/** Longest stored document name (ours; the seed has none). */
const MAX_NAME_CHARS = 200;
/** C0/C1 controls, and bidi overrides/isolates that can disguise an extension (U+202E "RTLO"). */
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;

/**
 * The client's file name reduced to safe metadata (RELIABILITY §3.5): last path segment only
 * (`/` and `\`), no control or bidi characters, no leading dots, at most 200 characters with the
 * extension kept. It is only ever displayed; files are never stored under it.
 */
export function sanitizeFileName(raw: string): string {
  let name = (raw.normalize('NFC').split(/[/\\]/).at(-1) ?? '').replace(INVISIBLE, '').trim().replace(/^\.+/, '');
  if (name.length > MAX_NAME_CHARS) {
    const dot = name.lastIndexOf('.');
    const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    name = name.slice(0, MAX_NAME_CHARS - extension.length) + extension;
  }
  return name === '' ? 'document' : name;
}
