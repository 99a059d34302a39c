/**
 * A resumable upload store for software packages, after tus (and the BPA agent's PATCH with
 * `Upload-Offset`), but streaming to disk and checked: the client declares name, version, size
 * and sha256; sends the bytes in chunks at the offset the store reports (a wrong offset is a 409
 * that says where to resume); the store never takes more than the declared size, and on
 * completion hashes the file as a stream and keeps it only if the digest matches.
 *
 * On disk, under `directory`:
 *   uploads/<id>.json   what was declared (and, once complete, where the package is)
 *   uploads/<id>.part   the bytes so far: its size is the offset, so a restart loses nothing
 *   uploads/<id>.lock   held while a chunk is written (created exclusively; stale after a while)
 *   blobs/sha256/<hex>  completed packages, by content: the same bytes are stored once
 * The directory may be shared by several replicas (a shared volume): the lock file, not memory,
 * keeps two writers apart.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { NotFoundError, ValidationError } from '../../errors.js';
import {
  PackageChecksumMismatchError,
  UploadBusyError,
  UploadCompleteError,
  UploadIncompleteError,
  UploadOffsetMismatchError,
  UploadTooLargeError,
} from './errors.js';

export interface UploadDeclaration {
  clusterId: string;
  name: string;
  version: string;
  /** Hex digest of the whole file (upper case accepted, stored lower case). */
  sha256: string;
  /** Bytes. */
  size: number;
}

export interface UploadRecord extends UploadDeclaration {
  id: string;
  createdAt: string;
  /** Set once complete: the package file (content-addressed). */
  path?: string;
  completedAt?: string;
}

/** A verified package: its bytes hash to `sha256`. */
export interface PackageFile extends UploadRecord {
  path: string;
  completedAt: string;
}

export interface UploadStatus {
  offset: number;
  size: number;
  complete: boolean;
}

export interface PackageStore {
  /** Declares an upload; the bytes follow with appendChunk. */
  createUpload(declaration: UploadDeclaration): Promise<UploadRecord>;
  /** What was declared (404 when the upload does not exist). Read-only. */
  get(id: string): Promise<UploadRecord>;
  /** Where the upload stands (for HEAD / `Upload-Offset`). Read-only. */
  status(id: string): Promise<UploadStatus>;
  /**
   * Streams one chunk to disk at `offset` (409 UploadOffsetMismatchError when the upload is
   * elsewhere); returns the new offset. Past the declared size: 413 and the chunk is dropped.
   * A body cut off midway keeps what arrived: the client resumes from status().offset.
   */
  appendChunk(id: string, offset: number, body: Readable | AsyncIterable<Uint8Array>): Promise<number>;
  /** Verifies the sha256 (streaming) and keeps the package. Idempotent: a completed upload returns its package. */
  complete(id: string): Promise<PackageFile>;
  /** Drops an unfinished upload. Idempotent. */
  discard(id: string): Promise<void>;
}

export interface PackageStoreOptions {
  directory: string;
  /** Largest declared size accepted (default 8 GiB). */
  maxSize?: number;
  /** A lock older than this is taken to belong to a crashed writer (default 10 min). */
  lockStaleMs?: number;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9.+_-]{0,127}$/;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+~:_-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const DEFAULT_MAX_SIZE = 8 * 1024 ** 3;

export function checkDeclaration(declaration: UploadDeclaration, maxSize = DEFAULT_MAX_SIZE): string[] {
  const problems: string[] = [];
  if (!CLUSTER_ID.test(declaration.clusterId)) problems.push('clusterId must be 1–64 letters, digits, "-" or "_"');
  if (!PACKAGE_NAME.test(declaration.name)) problems.push(`name ${JSON.stringify(declaration.name)} must be lower case letters, digits and . + _ - (starting with a letter or digit, at most 128)`);
  if (!VERSION.test(declaration.version)) problems.push(`version ${JSON.stringify(declaration.version)} must be letters, digits and . + ~ : _ - (starting with a letter or digit, at most 128)`);
  if (!SHA256.test(declaration.sha256.toLowerCase())) problems.push('sha256 must be 64 hex digits');
  if (!(Number.isSafeInteger(declaration.size) && declaration.size > 0 && declaration.size <= maxSize)) problems.push(`size must be a whole number of bytes from 1 to ${maxSize}`);
  return problems;
}

export function createPackageStore(options: PackageStoreOptions): PackageStore {
  const uploads = join(options.directory, 'uploads');
  const blobs = join(options.directory, 'blobs', 'sha256');
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  const lockStaleMs = options.lockStaleMs ?? 10 * 60_000;
  const paths = (id: string) => ({ meta: join(uploads, `${id}.json`), part: join(uploads, `${id}.part`), lock: join(uploads, `${id}.lock`) });

  async function load(id: string): Promise<UploadRecord> {
    if (!ID.test(id)) throw new NotFoundError(`Upload ${id} does not exist`, 'upload_not_found');
    try {
      return JSON.parse(await readFile(paths(id).meta, 'utf8')) as UploadRecord;
    } catch (error: unknown) {
      if (isCode(error, 'ENOENT')) throw new NotFoundError(`Upload ${id} does not exist`, 'upload_not_found');
      throw error;
    }
  }

  /** Written whole then renamed: a reader never sees half a record. */
  async function save(record: UploadRecord): Promise<void> {
    const target = paths(record.id).meta;
    await writeFile(`${target}.tmp`, JSON.stringify(record));
    await rename(`${target}.tmp`, target);
  }

  async function withLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    const { lock } = paths(id);
    const handle = await open(lock, 'wx').catch(async (error: unknown) => {
      if (!isCode(error, 'EEXIST')) throw error;
      const since = await stat(lock).then((info) => info.mtimeMs, () => Date.now());
      if (Date.now() - since <= lockStaleMs) throw new UploadBusyError(id);
      await unlink(lock).catch(() => undefined);
      return open(lock, 'wx').catch(() => { throw new UploadBusyError(id); });
    });
    await handle.close();
    try {
      return await work();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  async function offsetOf(id: string): Promise<number> {
    return (await stat(paths(id).part)).size;
  }

  return {
    async createUpload(declaration) {
      const problems = checkDeclaration(declaration, maxSize);
      if (problems.length > 0) throw new ValidationError(`The upload is invalid: ${problems.join('; ')}`, problems);
      await mkdir(uploads, { recursive: true });
      const record: UploadRecord = { ...declaration, sha256: declaration.sha256.toLowerCase(), id: randomUUID(), createdAt: new Date().toISOString() };
      await writeFile(paths(record.id).part, '', { flag: 'wx' });
      await save(record);
      return record;
    },

    get: load,

    async status(id) {
      const record = await load(id);
      if (record.path !== undefined) return { offset: record.size, size: record.size, complete: true };
      return { offset: await offsetOf(id), size: record.size, complete: false };
    },

    async appendChunk(id, offset, body) {
      const record = await load(id);
      if (record.path !== undefined) throw new UploadCompleteError(id);
      return withLock(id, async () => {
        const current = await offsetOf(id);
        if (offset !== current) throw new UploadOffsetMismatchError(id, offset, current);
        try {
          await writeBody(body, paths(id).part, record.size - current, () => new UploadTooLargeError(id, record.size));
        } catch (error: unknown) {
          // Too large: nothing of this chunk is kept. Cut off: what arrived stays, to resume from.
          if (error instanceof UploadTooLargeError) await truncate(paths(id).part, current);
          throw error;
        }
        return offsetOf(id);
      });
    },

    async complete(id) {
      const record = await load(id);
      if (record.path !== undefined && record.completedAt !== undefined) return { ...record, path: record.path, completedAt: record.completedAt };
      return withLock(id, async () => {
        const offset = await offsetOf(id);
        if (offset !== record.size) throw new UploadIncompleteError(id, offset, record.size);
        const actual = await sha256Of(paths(id).part);
        if (actual !== record.sha256) {
          await unlink(paths(id).part).catch(() => undefined);
          await unlink(paths(id).meta).catch(() => undefined);
          throw new PackageChecksumMismatchError(id, record.sha256, actual);
        }
        await mkdir(blobs, { recursive: true });
        const path = join(blobs, actual);
        // Same digest, same bytes: an existing blob is kept and this copy dropped.
        if (await stat(path).then(() => true, () => false)) await unlink(paths(id).part);
        else await rename(paths(id).part, path);
        const completed: PackageFile = { ...record, path, completedAt: new Date().toISOString() };
        await save(completed);
        return completed;
      });
    },

    async discard(id) {
      if (!ID.test(id)) return;
      const record = await load(id).catch(() => undefined);
      if (record?.path !== undefined) return; // a completed package is not an upload to drop
      for (const file of [paths(id).part, paths(id).meta]) await unlink(file).catch(() => undefined);
    },
  };
}

/**
 * Appends the body to `path`, at most `limit` bytes (one more fails with `tooLarge()`), with
 * back-pressure. When the body fails midway (the client went away), what arrived is still
 * flushed to disk before the error is passed on: that is the point the client resumes from.
 */
async function writeBody(body: Readable | AsyncIterable<Uint8Array>, path: string, limit: number, tooLarge: () => Error): Promise<void> {
  const out = createWriteStream(path, { flags: 'a' });
  // Listens for a write error from the start (a disk full mid-chunk), awaited at the end.
  const written = finished(out);
  written.catch(() => undefined);
  let remaining = limit;
  let failure: unknown;
  try {
    for await (const chunk of body) {
      const bytes = chunk as Uint8Array;
      if (bytes.length > remaining) throw tooLarge();
      remaining -= bytes.length;
      if (!out.write(bytes)) await Promise.race([once(out, 'drain'), written]);
    }
  } catch (error: unknown) {
    failure = error;
  }
  out.end();
  await written;
  if (failure !== undefined) throw failure;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
