/**
 * Zip archives written byte by byte, for tests that need shapes no zip tool produces on purpose:
 * duplicate names, symlink entries, encrypted flags, sizes that lie. Each entry's local header and
 * central directory record say the same thing (unless a test overrides a field), and the end
 * record counts the entries (or says what the test wants it to say).
 */
import { deflateRawSync } from 'node:zlib';

export interface HandmadeEntry {
  name: string;
  /** Uncompressed content; compressed with deflate when `method` is 8 (the default). */
  content?: Buffer | string;
  /** Stored bytes as they are, instead of compressing `content`. */
  rawData?: Buffer;
  method?: number;
  /** Uncompressed size written in the headers; the real size when omitted. */
  declaredSize?: number;
  crc?: number;
  flags?: number;
  /** External attributes; a regular 0644 file when omitted. */
  externalAttributes?: number;
  /** "Version made by"; Unix (3) when omitted. */
  madeBy?: number;
}

export const UNIX_REGULAR_FILE = (0o100644 << 16) >>> 0;
export const UNIX_SYMLINK = (0o120777 << 16) >>> 0;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface Prepared {
  name: Buffer;
  data: Buffer;
  method: number;
  size: number;
  crc: number;
  flags: number;
  externalAttributes: number;
  madeBy: number;
}

function prepare(entry: HandmadeEntry): Prepared {
  const content = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content ?? '', 'utf8');
  const method = entry.method ?? 8;
  const data = entry.rawData ?? (method === 8 ? deflateRawSync(content) : content);
  return {
    name: Buffer.from(entry.name, 'utf8'),
    data,
    method,
    size: entry.declaredSize ?? content.length,
    crc: entry.crc ?? crc32(content),
    // Bit 11: the name is UTF-8.
    flags: entry.flags ?? 0x0800,
    externalAttributes: entry.externalAttributes ?? UNIX_REGULAR_FILE,
    madeBy: entry.madeBy ?? ((3 << 8) | 30),
  };
}

function localHeader(entry: Prepared): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(entry.flags, 6);
  header.writeUInt16LE(entry.method, 8);
  header.writeUInt16LE(0, 10);
  header.writeUInt16LE(0x5021, 12); // 2020-01-01
  header.writeUInt32LE(entry.crc, 14);
  header.writeUInt32LE(entry.data.length, 18);
  header.writeUInt32LE(entry.size, 22);
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, entry.name]);
}

function centralRecord(entry: Prepared, offset: number): Buffer {
  const record = Buffer.alloc(46);
  record.writeUInt32LE(0x02014b50, 0);
  record.writeUInt16LE(entry.madeBy, 4);
  record.writeUInt16LE(20, 6);
  record.writeUInt16LE(entry.flags, 8);
  record.writeUInt16LE(entry.method, 10);
  record.writeUInt16LE(0, 12);
  record.writeUInt16LE(0x5021, 14);
  record.writeUInt32LE(entry.crc, 16);
  record.writeUInt32LE(entry.data.length, 20);
  record.writeUInt32LE(entry.size, 24);
  record.writeUInt16LE(entry.name.length, 28);
  record.writeUInt32LE(entry.externalAttributes, 38);
  record.writeUInt32LE(offset, 42);
  return Buffer.concat([record, entry.name]);
}

export function handmadeZip(entries: readonly HandmadeEntry[], options: { declaredEntryCount?: number } = {}): Buffer {
  const prepared = entries.map(prepare);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of prepared) {
    const local = Buffer.concat([localHeader(entry), entry.data]);
    centrals.push(centralRecord(entry, offset));
    locals.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  const count = options.declaredEntryCount ?? prepared.length;
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
