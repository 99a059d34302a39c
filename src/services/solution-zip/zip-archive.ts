/**
 * Opening an uploaded zip without trusting it. Every entry of the central directory is checked
 * before any content is decompressed, and every problem is reported at once:
 * - at most `maxEntries` entries and `maxTotalUncompressedBytes` declared in all;
 * - no entry over `maxCompressionRatio` : 1 (entries under `ratioExemptBytes` are exempt: they
 *   cannot inflate into anything dangerous, and tiny repetitive files compress very well);
 * - names: relative, no `..`, no backslash, no drive letter, no control character;
 * - no symlink, device or other non-regular entry (Unix mode in the external attributes);
 * - no encrypted entry, no compression method other than stored and deflate;
 * - no duplicate names, also when compared case-insensitively (they would overwrite each other
 *   on a case-insensitive file system, and the one read might not be the one checked).
 * Content is then decompressed only on demand, capped at the declared size (adm-zip passes
 * maxOutputLength to zlib) and checked against the declared size and CRC, so a header that lies
 * about its size cannot make the server inflate more than the limits allow.
 */
import AdmZip from 'adm-zip';
import { ValidationError, errorMessage } from '../../errors.js';
import { unsafePathReason } from './layout.js';

export interface ZipLimits {
  /** Size of the zip itself. */
  maxArchiveBytes: number;
  maxEntries: number;
  maxTotalUncompressedBytes: number;
  maxCompressionRatio: number;
  ratioExemptBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxArchiveBytes: 64 * 1024 * 1024,
  maxEntries: 1000,
  maxTotalUncompressedBytes: 64 * 1024 * 1024,
  maxCompressionRatio: 100,
  ratioExemptBytes: 64 * 1024,
};

const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FILE_TYPE_MASK = 0o170000;
const FILE_TYPES: Record<number, string> = {
  0o010000: 'a named pipe',
  0o020000: 'a character device',
  0o060000: 'a block device',
  0o120000: 'a symbolic link',
  0o140000: 'a socket',
};
const REGULAR_FILE = 0o100000;
const DIRECTORY = 0o040000;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const END_RECORD_SIZE = 22;
const ZIP64_COUNT = 0xffff;

/** Folders some zip tools add that are never part of a solution (macOS resource forks). */
const IGNORED_PREFIXES = ['__MACOSX/'];

export interface SafeZip {
  /** Paths of the files (not folders), relative to the solution's root, in archive order. */
  readonly files: readonly string[];
  has(path: string): boolean;
  /** The file as UTF-8 text; on any problem, records it in `problems` and returns undefined. */
  readText(path: string, problems: string[]): string | undefined;
}

type Entry = AdmZip.IZipEntry;

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
}

/** The entry count the end record declares, read before adm-zip parses the whole directory. */
function declaredEntryCount(buffer: Buffer): number | undefined {
  const lowest = Math.max(0, buffer.length - END_RECORD_SIZE - 0xffff);
  for (let at = buffer.length - END_RECORD_SIZE; at >= lowest; at--) {
    if (buffer.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return buffer.readUInt16LE(at + 10);
  }
  return undefined;
}

function entryProblems(entry: Entry, limits: ZipLimits): string[] {
  const name = entry.entryName;
  const shown = JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
  const problems: string[] = [];
  const pathProblem = unsafePathReason(name);
  if (pathProblem !== undefined) problems.push(`${shown}: the path ${pathProblem}`);
  const { header } = entry;
  if (header.encrypted || (header.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0) problems.push(`${shown}: is encrypted`);
  const fileType = (header.attr >>> 16) & FILE_TYPE_MASK;
  if (fileType !== 0 && fileType !== REGULAR_FILE && fileType !== DIRECTORY) {
    problems.push(`${shown}: is ${FILE_TYPES[fileType] ?? `an entry of Unix file type 0o${fileType.toString(8)}`}; only regular files and folders are accepted`);
  }
  if (!entry.isDirectory && header.method !== METHOD_STORED && header.method !== METHOD_DEFLATED) {
    problems.push(`${shown}: uses compression method ${header.method}; only stored (0) and deflate (8) are accepted`);
  }
  if (header.method === METHOD_STORED && header.size !== header.compressedSize) {
    problems.push(`${shown}: is stored uncompressed but declares ${header.size} bytes for ${header.compressedSize} stored`);
  }
  if (header.size > limits.ratioExemptBytes && header.size > limits.maxCompressionRatio * Math.max(header.compressedSize, 1)) {
    const ratio = Math.round(header.size / Math.max(header.compressedSize, 1));
    problems.push(`${shown}: compression ratio ${ratio}:1 is over the limit of ${limits.maxCompressionRatio}:1`);
  }
  return problems;
}

function duplicateProblems(entries: readonly Entry[]): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const entry of entries) {
    const key = entry.entryName.replace(/\/$/, '').toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) problems.push(`${JSON.stringify(entry.entryName)}: duplicates ${JSON.stringify(earlier)} (names are compared ignoring case)`);
    else seen.set(key, entry.entryName);
  }
  return problems;
}

function archiveProblems(entries: readonly Entry[], limits: ZipLimits): string[] {
  const problems: string[] = [];
  if (entries.length > limits.maxEntries) problems.push(`has ${entries.length} entries; at most ${limits.maxEntries} are accepted`);
  const total = entries.reduce((sum, entry) => sum + entry.header.size, 0);
  if (total > limits.maxTotalUncompressedBytes) {
    problems.push(`would unpack to ${megabytes(total)}; at most ${megabytes(limits.maxTotalUncompressedBytes)} are accepted`);
  }
  for (const entry of entries) problems.push(...entryProblems(entry, limits));
  problems.push(...duplicateProblems(entries));
  return problems;
}

function reject(problems: readonly string[]): never {
  throw new ValidationError(`solution.zip was refused: ${problems.join('; ')}`, problems.map((problem) => `solution.zip ${problem}`));
}

function loadEntries(buffer: Buffer, limits: ZipLimits): Entry[] {
  if (buffer.length > limits.maxArchiveBytes) reject([`is ${megabytes(buffer.length)}; at most ${megabytes(limits.maxArchiveBytes)} are accepted`]);
  const count = declaredEntryCount(buffer);
  if (count === undefined) reject(['is not a zip file (no end of central directory record)']);
  if (count !== ZIP64_COUNT && count > limits.maxEntries) reject([`has ${count} entries; at most ${limits.maxEntries} are accepted`]);
  try {
    return new AdmZip(buffer).getEntries();
  } catch (error: unknown) {
    // adm-zip refuses exact duplicate names and broken headers while reading the directory.
    reject([`cannot be read: ${errorMessage(error).replace(/^ADM-ZIP: /, '')}`]);
  }
}

/**
 * When the solution is wrapped in one folder (someone zipped the unpacked folder), that folder
 * is the root. Otherwise the archive's root is.
 */
function solutionRoot(files: readonly string[], markers: readonly string[]): string {
  if (files.some((file) => markers.includes(file))) return '';
  const firstSegments = new Set(files.map((file) => file.split('/')[0]));
  const [only] = firstSegments;
  if (firstSegments.size === 1 && only !== undefined && files.every((file) => file.includes('/'))) return `${only}/`;
  return '';
}

/**
 * Checks the archive and returns a reader for it. Throws ValidationError listing every problem
 * of the archive itself; content problems are the caller's (see readText).
 * `markers` are files that identify the solution's root folder.
 */
export function openZipSafely(buffer: Buffer, markers: readonly string[], limits: ZipLimits = DEFAULT_ZIP_LIMITS): SafeZip {
  const entries = loadEntries(buffer, limits);
  const problems = archiveProblems(entries, limits);
  if (problems.length > 0) reject(problems);

  const fileEntries = entries.filter((entry) => !entry.isDirectory && !IGNORED_PREFIXES.some((prefix) => entry.entryName.startsWith(prefix)));
  const root = solutionRoot(fileEntries.map((entry) => entry.entryName), markers);
  const byPath = new Map(fileEntries.map((entry) => [entry.entryName.slice(root.length), entry]));

  return {
    files: [...byPath.keys()],
    has: (path) => byPath.has(path),
    readText(path, found) {
      const entry = byPath.get(path);
      if (entry === undefined) {
        found.push(`${path} is missing`);
        return undefined;
      }
      return readEntryText(entry, path, found);
    },
  };
}

function readEntryText(entry: Entry, path: string, problems: string[]): string | undefined {
  let data: Buffer;
  try {
    data = entry.getData();
  } catch (error: unknown) {
    problems.push(`${path} cannot be unpacked (${errorMessage(error).replace(/^ADM-ZIP: /, '')}): its content does not match its header`);
    return undefined;
  }
  if (data.length !== entry.header.size) {
    problems.push(`${path} unpacks to ${data.length} bytes but its header declares ${entry.header.size}`);
    return undefined;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data).replace(/^\uFEFF/, '');
  } catch {
    problems.push(`${path} is not UTF-8 text`);
    return undefined;
  }
}
