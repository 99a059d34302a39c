/**
 * Writes an imported solution into the local solutions folder, in the layout LocalSolutionSource
 * reads (examples/solutions/README.md). Atomic: the files are written into a hidden staging
 * folder (ignored by the source) and renamed into place in one step, so a reader sees the whole
 * revision or none of it, and a failure leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertSolutionIds } from '../../adapters/solution-ids.js';
import type { Solution } from '../../domain/solution.js';
import { unsafePathReason } from './layout.js';

/** Under the writable folder; starts with `.` so listings skip it. */
const STAGING_DIR = '.imports';

interface StoredFile {
  path: string;
  content: string;
}

/** A model's proto is found by its container name, or as the only proto: a safe name either way. */
function modelProtoName(containerName: string): string {
  const candidate = `microservice/${containerName}.proto`;
  return unsafePathReason(candidate) === undefined && !containerName.includes('/') ? candidate : 'microservice/model.proto';
}

function filesOf(solution: Solution): StoredFile[] {
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  if (solution.kind === 'pipeline') {
    return [
      { path: 'solution.json', content: json({ name: solution.name, kind: 'pipeline' }) },
      { path: 'blueprint.json', content: json(solution.blueprint) },
      ...Object.entries(solution.protos).map(([name, content]) => ({ path: `microservice/${name}.proto`, content })),
    ];
  }
  return [
    { path: 'solution.json', content: json({ name: solution.name, kind: 'model', containerName: solution.containerName, image: solution.image }) },
    ...(solution.proto !== undefined ? [{ path: modelProtoName(solution.containerName), content: solution.proto }] : []),
  ];
}

async function exists(target: string): Promise<boolean> {
  try {
    await stat(target);
    return true;
  } catch {
    return false;
  }
}

function isAlreadyThere(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error.code === 'ENOTEMPTY' || error.code === 'EEXIST');
}

async function writeStaged(staging: string, files: readonly StoredFile[]): Promise<void> {
  for (const file of files) {
    const reason = unsafePathReason(file.path);
    if (reason !== undefined) throw new Error(`refusing to write ${JSON.stringify(file.path)}: the path ${reason}`);
    const target = path.join(staging, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content, { encoding: 'utf8', flag: 'wx' });
  }
}

/**
 * Stores the revision under `<writableDir>/<solutionId>/<revisionId>/`. Idempotent: revision ids
 * are derived from the content, so when the folder exists it already holds this content and
 * nothing is written (`created: false`).
 */
export async function storeSolution(solution: Solution, writableDir: string): Promise<{ created: boolean }> {
  assertSolutionIds(solution.solutionId, solution.revisionId);
  const solutionDir = path.join(writableDir, solution.solutionId);
  const target = path.join(solutionDir, solution.revisionId);
  if (await exists(target)) return { created: false };

  const staging = path.join(writableDir, STAGING_DIR, randomUUID());
  await mkdir(staging, { recursive: true });
  let solutionDirCreated = false;
  try {
    await writeStaged(staging, filesOf(solution));
    solutionDirCreated = (await mkdir(solutionDir, { recursive: true })) !== undefined;
    await rename(staging, target);
    return { created: true };
  } catch (error: unknown) {
    await rm(staging, { recursive: true, force: true });
    // Another import of the same content won the race: same id, same content.
    if (isAlreadyThere(error) && (await exists(target))) return { created: false };
    if (solutionDirCreated) await rmdir(solutionDir).catch(() => undefined);
    throw error;
  }
}
