import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import {
  PackageChecksumMismatchError,
  UploadBusyError,
  UploadCompleteError,
  UploadIncompleteError,
  UploadOffsetMismatchError,
  UploadTooLargeError,
} from '../../src/services/packages/errors.js';
import { createPackageStore, type PackageStore, type UploadDeclaration } from '../../src/services/packages/upload-store.js';

/** The package upload store on a real temporary directory. */

let directory: string;
let store: PackageStore;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'slipway-packages-'));
  store = createPackageStore({ directory, maxSize: 64 * 1024 * 1024 });
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function declarationFor(bytes: Buffer, overrides: Partial<UploadDeclaration> = {}): UploadDeclaration {
  return { clusterId: 'cluster-1', name: 'nvidia-driver', version: '550.54', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, ...overrides };
}

/** A body sent in small pieces, as a network stream would arrive. */
function streamOf(bytes: Buffer, pieceSize = 4096): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) pieces.push(bytes.subarray(i, i + pieceSize));
  return Readable.from(pieces);
}

/** A body the client stops sending halfway: `sent` bytes, then the connection drops. */
function cutOffStream(bytes: Buffer, sent: number): Readable {
  let pushed = false;
  return new Readable({
    read() {
      if (!pushed) {
        pushed = true;
        this.push(bytes.subarray(0, sent));
        setImmediate(() => this.destroy(new Error('aborted')));
      }
    },
  });
}

describe('package uploads', () => {
  it('uploads in chunks, verifies the sha256 and keeps the package by content', async () => {
    const bytes = randomBytes(300_000);
    const upload = await store.createUpload(declarationFor(bytes));
    expect(await store.status(upload.id)).toEqual({ offset: 0, size: bytes.length, complete: false });

    expect(await store.appendChunk(upload.id, 0, streamOf(bytes.subarray(0, 100_000)))).toBe(100_000);
    expect(await store.appendChunk(upload.id, 100_000, streamOf(bytes.subarray(100_000)))).toBe(bytes.length);
    const done = await store.complete(upload.id);

    expect(done).toMatchObject({ id: upload.id, name: 'nvidia-driver', version: '550.54', size: bytes.length, sha256: upload.sha256 });
    expect(done.path).toBe(join(directory, 'blobs', 'sha256', upload.sha256));
    expect((await readFile(done.path)).equals(bytes)).toBe(true);
    expect(await store.status(upload.id)).toEqual({ offset: bytes.length, size: bytes.length, complete: true });
    // Completing again (a retry after a lost answer) returns the same package.
    expect(await store.complete(upload.id)).toEqual(done);
    await expect(store.appendChunk(upload.id, bytes.length, streamOf(Buffer.from('x')))).rejects.toBeInstanceOf(UploadCompleteError);
  });

  it('a wrong offset is a 409 that says where to resume, and writes nothing', async () => {
    const bytes = randomBytes(10_000);
    const upload = await store.createUpload(declarationFor(bytes));
    await store.appendChunk(upload.id, 0, streamOf(bytes.subarray(0, 4000)));

    const error = await store.appendChunk(upload.id, 2000, streamOf(bytes.subarray(2000))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadOffsetMismatchError);
    expect((error as UploadOffsetMismatchError).status).toBe(409);
    expect((error as UploadOffsetMismatchError).offset).toBe(4000);
    expect((await store.status(upload.id)).offset).toBe(4000);
  });

  it('resumes after a chunk cut off midway: what arrived is kept, the rest follows from status()', async () => {
    const bytes = randomBytes(200_000);
    const upload = await store.createUpload(declarationFor(bytes));
    await expect(store.appendChunk(upload.id, 0, cutOffStream(bytes, 120_000))).rejects.toThrow('aborted');

    const { offset } = await store.status(upload.id);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(120_000);
    await store.appendChunk(upload.id, offset, streamOf(bytes.subarray(offset)));
    const done = await store.complete(upload.id);
    expect((await readFile(done.path)).equals(bytes)).toBe(true);
  });

  it('rejects bytes that do not match the declared sha256 and discards the upload', async () => {
    const bytes = randomBytes(5000);
    const upload = await store.createUpload(declarationFor(bytes, { sha256: 'A'.repeat(64) }));
    await store.appendChunk(upload.id, 0, streamOf(bytes));

    const error = await store.complete(upload.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackageChecksumMismatchError);
    expect((error as PackageChecksumMismatchError).status).toBe(422);
    expect((error as PackageChecksumMismatchError).message).toContain(`not the declared ${'a'.repeat(64)}`);
    await expect(store.status(upload.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(existsSync(join(directory, 'blobs'))).toBe(false);
  });

  it('never takes more than the declared size: the overflowing chunk is dropped whole', async () => {
    const bytes = randomBytes(1000);
    const upload = await store.createUpload(declarationFor(bytes));
    await store.appendChunk(upload.id, 0, streamOf(bytes.subarray(0, 600)));

    const error = await store.appendChunk(upload.id, 600, streamOf(Buffer.concat([bytes.subarray(600), Buffer.from('extra')]), 100)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadTooLargeError);
    expect((error as UploadTooLargeError).status).toBe(413);
    expect((await store.status(upload.id)).offset).toBe(600);
    await store.appendChunk(upload.id, 600, streamOf(bytes.subarray(600)));
    await expect(store.complete(upload.id)).resolves.toMatchObject({ size: 1000 });
  });

  it('an incomplete upload cannot be completed', async () => {
    const bytes = randomBytes(1000);
    const upload = await store.createUpload(declarationFor(bytes));
    await store.appendChunk(upload.id, 0, streamOf(bytes.subarray(0, 10)));
    const error = await store.complete(upload.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadIncompleteError);
    expect((error as UploadIncompleteError).message).toBe(`Upload ${upload.id} has 10 of its 1000 bytes; send the rest before completing it`);
  });

  it('one writer at a time: a second chunk while the first is being written is refused; a stale lock is taken over', async () => {
    const bytes = randomBytes(2000);
    const upload = await store.createUpload(declarationFor(bytes));
    const lock = join(directory, 'uploads', `${upload.id}.lock`);
    await writeFile(lock, '');
    await expect(store.appendChunk(upload.id, 0, streamOf(bytes))).rejects.toBeInstanceOf(UploadBusyError);

    const old = new Date(Date.now() - 60 * 60_000);
    await utimes(lock, old, old);
    await expect(store.appendChunk(upload.id, 0, streamOf(bytes))).resolves.toBe(2000);
    expect(existsSync(lock)).toBe(false);
  });

  it('the same bytes uploaded twice are stored once', async () => {
    const bytes = randomBytes(3000);
    const first = await store.createUpload(declarationFor(bytes));
    const second = await store.createUpload(declarationFor(bytes, { clusterId: 'cluster-2' }));
    for (const upload of [first, second]) await store.appendChunk(upload.id, 0, streamOf(bytes));
    const [a, b] = [await store.complete(first.id), await store.complete(second.id)];
    expect(a.path).toBe(b.path);
    expect(await readdir(join(directory, 'blobs', 'sha256'))).toEqual([first.sha256]);
  });

  it('lists every problem of a bad declaration; unknown or malformed ids are 404', async () => {
    const error = await store.createUpload({ clusterId: '', name: 'Bad Name', version: '-1', sha256: 'xyz', size: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).extra.problems).toHaveLength(5);
    await expect(store.status('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.status('../../etc/passwd')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('discard drops an unfinished upload, and is idempotent', async () => {
    const bytes = randomBytes(100);
    const upload = await store.createUpload(declarationFor(bytes));
    await store.discard(upload.id);
    await store.discard(upload.id);
    await expect(store.status(upload.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
