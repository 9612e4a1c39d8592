import { inflateRawSync } from 'node:zlib';
import { ParseFailure } from './document-parser.js';

/** One entry of a ZIP's central directory. */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

export interface ZipLimits {
  readonly maxUncompressedBytes: number;
  readonly maxEntries: number;
  readonly maxRatio: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

const invalid = (why: string) => new ParseFailure('unprocessable', `无效的 DOCX 文件: ${why}`);
const tooLarge = (why: string) => new ParseFailure('payload_too_large', `文档过大: ${why}`);

function findEndOfCentralDirectory(zip: Buffer): number {
  const lowest = Math.max(0, zip.length - EOCD_SIZE - MAX_COMMENT);
  for (let offset = zip.length - EOCD_SIZE; offset >= lowest; offset--) {
    if (zip.readUInt32LE(offset) === EOCD_SIGNATURE) return offset;
  }
  throw invalid('找不到 ZIP 目录');
}

function hasZip64Extra(zip: Buffer, start: number, length: number): boolean {
  for (let offset = start; offset + 4 <= start + length; ) {
    if (zip.readUInt16LE(offset) === ZIP64_EXTRA_ID) return true;
    offset += 4 + zip.readUInt16LE(offset + 2);
  }
  return false;
}

/**
 * Reads the central directory and refuses bombs before any decompression (RELIABILITY §2.4:
 * mammoth's jszip has no size bound): total declared uncompressed size, entry count, expansion
 * ratio, and any ZIP64 marker (whose 64-bit sizes could hide the real expansion).
 */
export function precheckZip(zip: Buffer, limits: ZipLimits): ZipEntry[] {
  if (zip.length < EOCD_SIZE) throw invalid('文件过短');
  try {
    return readDirectory(zip, limits);
  } catch (error) {
    // Offsets that point past the end of the file (a truncated or forged directory).
    if (error instanceof RangeError) throw invalid('ZIP 目录损坏');
    throw error;
  }
}

function readDirectory(zip: Buffer, limits: ZipLimits): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(zip);
  if (eocd >= 20 && zip.readUInt32LE(eocd - 20) === ZIP64_LOCATOR_SIGNATURE) throw invalid('不支持 ZIP64');
  const entryCount = zip.readUInt16LE(eocd + 10);
  const directorySize = zip.readUInt32LE(eocd + 12);
  const directoryOffset = zip.readUInt32LE(eocd + 16);
  if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) throw invalid('不支持 ZIP64');
  if (entryCount > limits.maxEntries) throw tooLarge(`ZIP 条目超过 ${limits.maxEntries} 个`);
  if (directoryOffset + directorySize > eocd) throw invalid('ZIP 目录越界');
  const entries: ZipEntry[] = [];
  let total = 0;
  for (let offset = directoryOffset, index = 0; index < entryCount; index++) {
    if (offset + 46 > eocd || zip.readUInt32LE(offset) !== CENTRAL_SIGNATURE) throw invalid('ZIP 目录损坏');
    const compressedSize = zip.readUInt32LE(offset + 20);
    const uncompressedSize = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeaderOffset = zip.readUInt32LE(offset + 42);
    if ([compressedSize, uncompressedSize, localHeaderOffset].includes(0xffffffff) || hasZip64Extra(zip, offset + 46 + nameLength, extraLength)) {
      throw invalid('不支持 ZIP64');
    }
    total += uncompressedSize;
    if (total > limits.maxUncompressedBytes) throw tooLarge(`解压后超过 ${limits.maxUncompressedBytes} 字节`);
    entries.push({ name: zip.toString('utf8', offset + 46, offset + 46 + nameLength), method: zip.readUInt16LE(offset + 10), compressedSize, uncompressedSize, localHeaderOffset });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  if (total > zip.length * limits.maxRatio) throw tooLarge(`压缩比超过 ${limits.maxRatio}:1`);
  return entries;
}

/**
 * Inflates one entry, never past its declared size: a central directory that lies about sizes
 * fails here instead of inside mammoth.
 */
export function readZipEntry(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL_SIGNATURE) throw invalid(`条目 ${entry.name} 损坏`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) {
    if (data.length !== entry.uncompressedSize) throw invalid(`条目 ${entry.name} 大小不符`);
    return data;
  }
  if (entry.method !== 8) throw invalid(`条目 ${entry.name} 使用不支持的压缩方式`);
  try {
    const inflated = inflateRawSync(data, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    if (inflated.length !== entry.uncompressedSize) throw invalid(`条目 ${entry.name} 大小与目录不符`);
    return inflated;
  } catch (error) {
    if (error instanceof ParseFailure) throw error;
    throw invalid(`条目 ${entry.name} 无法解压或大小与目录不符`);
  }
}
