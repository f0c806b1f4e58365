import { inflateRawSync } from 'node:zlib';

/**
 * An .xlsx is a zip: a few kilobytes may unzip to gigabytes (a decompression bomb) and the spreadsheet reader
 * would unzip all of it into memory. Before the reader sees the file, its central directory is read and every
 * part is unzipped here with a ceiling: the declared sizes must fit the limit, and no part may unzip to more than
 * it declares.
 */
export class WorkbookTooLargeError extends Error {
  constructor(
    message: string,
    public readonly limitBytes: number,
  ) {
    super(message);
    this.name = 'WorkbookTooLargeError';
  }
}

/** A zip that cannot be read as one (the reader would refuse it too, with its own words). */
export class WorkbookUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkbookUnreadableError';
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const ZIP64_EXTRA = 0x0001;
const MAX32 = 0xffffffff;

/** `100mb` / `512kb` (the configuration's notation) in bytes. */
export function sizeInBytes(size: string): number {
  const m = /^(\d+)(kb|mb)$/.exec(size);
  if (!m) throw new Error(`not a size: ${size}`);
  return Number(m[1]) * (m[2] === 'mb' ? 1024 * 1024 : 1024);
}

const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;

interface Part {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeader: number;
}

function endOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65,535.
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === EOCD) return at;
  }
  throw new WorkbookUnreadableError('the file is not a zip archive (no end of central directory)');
}

function partsOf(zip: Buffer): Part[] {
  const eocd = endOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  const offset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || offset === MAX32)
    throw new WorkbookUnreadableError('ZIP64 archives are not accepted as workbooks');
  const parts: Part[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL)
      throw new WorkbookUnreadableError('the zip central directory is damaged');
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    let compressedSize = zip.readUInt32LE(at + 20);
    let size = zip.readUInt32LE(at + 24);
    let localHeader = zip.readUInt32LE(at + 42);
    // Sizes of 4 GB and more live in the ZIP64 extra field, in this order.
    if (size === MAX32 || compressedSize === MAX32 || localHeader === MAX32) {
      const extra = zip.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
      for (let e = 0; e + 4 <= extra.length; e += 4 + extra.readUInt16LE(e + 2)) {
        if (extra.readUInt16LE(e) !== ZIP64_EXTRA) continue;
        let f = e + 4;
        const next = () => {
          const v = Number(extra.readBigUInt64LE(f));
          f += 8;
          return v;
        };
        if (size === MAX32) size = next();
        if (compressedSize === MAX32) compressedSize = next();
        if (localHeader === MAX32) localHeader = next();
      }
    }
    parts.push({ name, method: zip.readUInt16LE(at + 10), compressedSize, size, localHeader });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return parts;
}

/**
 * Refuses a workbook that unzips to more than `limitBytes` (WorkbookTooLargeError) before anything reads it:
 * first by the sizes its directory declares, then by unzipping each part with a ceiling of its declared size, so
 * a part that lies about its size is stopped as soon as it passes it.
 */
export function assertWorkbookFits(zip: Buffer, limitBytes: number): void {
  const parts = partsOf(zip);
  const declared = parts.reduce((sum, p) => sum + p.size, 0);
  if (declared > limitBytes)
    throw new WorkbookTooLargeError(
      `the workbook unzips to ${mb(declared)} (${parts.reduce((a, b) => (b.size > a.size ? b : a)).name} alone ` +
        `${mb(Math.max(...parts.map((p) => p.size)))}), more than the ${mb(limitBytes)} an import may hold; ` +
        'nothing was imported',
      limitBytes,
    );
  for (const part of parts) {
    const at = part.localHeader;
    if (at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL)
      throw new WorkbookUnreadableError(`the zip entry ${part.name} is damaged`);
    const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
    const data = zip.subarray(start, start + part.compressedSize);
    const lies = () =>
      new WorkbookTooLargeError(
        `the workbook part ${part.name} unzips to more than the ${part.size} bytes it declares; nothing was imported`,
        limitBytes,
      );
    if (part.method === 0) {
      if (data.length > part.size) throw lies();
    } else if (part.method === 8) {
      try {
        // One byte of headroom: a part that declares 0 bytes still inflates its (empty) stream.
        inflateRawSync(data, { maxOutputLength: part.size + 1 });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
          throw lies();
        throw new WorkbookUnreadableError(`the zip entry ${part.name} cannot be unzipped`);
      }
    } else {
      throw new WorkbookUnreadableError(`the zip entry ${part.name} uses an unsupported compression method`);
    }
  }
}
