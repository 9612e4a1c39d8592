import type { DocumentKind } from './document-parser.js';

/** Extensions we accept; the seed reports `file_type` as the bare lower-case extension. */
const KIND_BY_EXTENSION: Readonly<Record<string, DocumentKind>> = {
  txt: 'txt',
  text: 'txt',
  md: 'md',
  markdown: 'md',
  html: 'html',
  htm: 'html',
  docx: 'docx',
  pdf: 'pdf',
};

/** Lower-case extension without its dot (`report.PDF` → `pdf`); '' when there is none. */
export function extensionOf(fileName: string): string {
  const base = fileName.split(/[/\\]/).at(-1) ?? '';
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

export function kindOfExtension(extension: string): DocumentKind | undefined {
  return Object.hasOwn(KIND_BY_EXTENSION, extension) ? KIND_BY_EXTENSION[extension] : undefined;
}

/** Signatures of formats that are never text (magic bytes at offset 0). */
const BINARY_SIGNATURES: readonly (readonly number[])[] = [
  [0x25, 0x50, 0x44, 0x46, 0x2d], // %PDF-
  [0x50, 0x4b, 0x03, 0x04], // ZIP (docx, xlsx, jar…)
  [0x50, 0x4b, 0x05, 0x06], // empty ZIP
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF8
  [0x7f, 0x45, 0x4c, 0x46], // ELF
  [0x1f, 0x8b], // gzip
  [0x52, 0x61, 0x72, 0x21], // Rar!
  [0x37, 0x7a, 0xbc, 0xaf], // 7z
  [0xd0, 0xcf, 0x11, 0xe0], // OLE2 (.doc, .xls)
];

const startsWith = (bytes: Uint8Array, signature: readonly number[]) => signature.every((byte, index) => bytes[index] === byte);

function hasUtf16Bom(bytes: Uint8Array): boolean {
  return (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
}

/** PDF 1.7 §7.5.2 lets the header start within the first 1024 bytes. */
function findsPdfHeader(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).includes('%PDF-');
}

/**
 * Whether the bytes look like what the extension claims (RELIABILITY §3.5: PDF bytes named
 * `.txt`, a ZIP named `.pdf`). Text kinds must not carry a binary signature nor NUL bytes
 * (UTF-16 with a BOM excepted).
 */
export function contentMatchesKind(kind: DocumentKind, bytes: Uint8Array): boolean {
  switch (kind) {
    case 'pdf':
      return findsPdfHeader(bytes);
    case 'docx':
      return startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]);
    case 'txt':
    case 'md':
    case 'html': {
      if (hasUtf16Bom(bytes)) return true;
      if (BINARY_SIGNATURES.some((signature) => startsWith(bytes, signature))) return false;
      return !bytes.subarray(0, 8192).includes(0);
    }
  }
}

const hasUtf8Bom = (bytes: Uint8Array) => bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;

/**
 * Whether UTF-8 decoding went wrong more often than right: more invalid sequences (U+FFFD) than
 * valid non-ASCII characters. Latin-1 and Windows-1252 text (é, ü, €) is almost never valid UTF-8,
 * while UTF-8 text with a stray byte still has far more good characters than bad ones.
 */
function looksLikeLegacy8Bit(utf8: string): boolean {
  let invalid = 0;
  let valid = 0;
  for (const char of utf8) {
    if (char === '\ufffd') invalid++;
    else if (char > '\u007f') valid++;
  }
  return invalid > valid;
}

/**
 * Decodes text bytes: UTF-16 with a BOM, UTF-8 with a BOM (invalid bytes → U+FFFD), and without a
 * BOM UTF-8, or Windows-1252 (a superset of Latin-1) when the bytes are mostly not UTF-8.
 */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const utf8 = new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
  if (hasUtf8Bom(bytes) || !utf8.includes('\ufffd') || !looksLikeLegacy8Bit(utf8)) return utf8;
  return decodeWindows1252(bytes);
}

/** Windows-1252's 0x80–0x9F (WHATWG Encoding); the rest of the byte range is Latin-1. */
const CP1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** Node 20's TextDecoder('windows-1252') decodes as ISO-8859-1 (0x80 stays a C1 control), so the difference is mapped here. */
function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\u0080-\u009f]/g, (char) => CP1252_HIGH[char.charCodeAt(0) - 0x80] ?? char);
}
