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

/** Decodes text bytes: UTF-8 (BOM stripped, invalid bytes → U+FFFD) or UTF-16 with a BOM. */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
}
