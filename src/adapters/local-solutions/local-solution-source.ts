import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../../errors.js';
import type { Solution, SolutionSource } from '../../domain/solution.js';
import { assertSolutionIds, isSafeId } from '../solution-ids.js';
import { readBlueprint, readManifest, readModelProto, readProtos, type RevisionFolder } from './revision-files.js';

/**
 * Solutions from folders on disk, for installs without Graphene and for the bundled example.
 * Layout: `<dir>/<solutionId>/<revisionId>/…`, described in examples/solutions/README.md.
 * The first folder is the writable one (imported solutions land there); the others are read-only.
 * When several folders hold the same revision, the first one wins. Read-only and idempotent.
 */
export interface LocalSolutionSourceOptions {
  dirs: readonly string[];
}

export interface LocalSolutionSummary {
  solutionId: string;
  revisionId: string;
  name: string;
  kind: Solution['kind'];
}

export class LocalSolutionSource implements SolutionSource {
  readonly dirs: readonly string[];

  constructor(options: LocalSolutionSourceOptions) {
    if (options.dirs.length === 0) throw new Error('LocalSolutionSource needs at least one folder');
    this.dirs = options.dirs.map((dir) => path.resolve(dir));
  }

  /** Where new solutions are written. */
  get writableDir(): string {
    return this.dirs[0] as string;
  }

  async getSolution(solutionId: string, revisionId: string): Promise<Solution> {
    assertSolutionIds(solutionId, revisionId);
    const folder = await this.findRevision(solutionId, revisionId);
    const manifest = await readManifest(folder, solutionId);
    const base = { solutionId, revisionId, name: manifest.name };
    if (manifest.kind === 'pipeline') {
      return { ...base, kind: 'pipeline', blueprint: await readBlueprint(folder), protos: await readProtos(folder) };
    }
    const proto = await readModelProto(folder, manifest.containerName);
    const model = { ...base, kind: 'model' as const, containerName: manifest.containerName, image: manifest.image };
    return proto === undefined ? model : { ...model, proto };
  }

  /**
   * Every revision in every folder, sorted by name. A revision whose solution.json is broken is
   * left out here (the front page must still render); opening it reports the problem.
   */
  async listSolutions(): Promise<LocalSolutionSummary[]> {
    const found = new Map<string, LocalSolutionSummary>();
    for (const dir of this.dirs) {
      for (const solutionId of await safeSubfolders(dir)) {
        for (const revisionId of await safeSubfolders(path.join(dir, solutionId))) {
          const key = `${solutionId}/${revisionId}`;
          if (found.has(key)) continue;
          const folder = { dir: path.join(dir, solutionId, revisionId), label: key };
          const manifest = await readManifest(folder, solutionId).catch(() => undefined);
          if (manifest) found.set(key, { solutionId, revisionId, name: manifest.name, kind: manifest.kind });
        }
      }
    }
    return [...found.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || a.solutionId.localeCompare(b.solutionId) || a.revisionId.localeCompare(b.revisionId),
    );
  }

  private async findRevision(solutionId: string, revisionId: string): Promise<RevisionFolder> {
    let solutionExists = false;
    for (const dir of this.dirs) {
      const solutionDir = insideFolder(dir, solutionId);
      const revisionDir = insideFolder(dir, path.join(solutionId, revisionId));
      if (await isDirectory(revisionDir)) return { dir: revisionDir, label: `${solutionId}/${revisionId}` };
      solutionExists ||= await isDirectory(solutionDir);
    }
    if (solutionExists) {
      throw new NotFoundError(`Revision ${revisionId} of solution ${solutionId} not found in the local solutions`, 'revision_not_found');
    }
    throw new NotFoundError(`Solution ${solutionId} not found in the local solutions`, 'solution_not_found');
  }
}

/**
 * `dir/relative`, refusing anything that would resolve outside `dir`. The ids are already checked
 * against a strict pattern; this is the second lock on the same door.
 */
function insideFolder(dir: string, relative: string): string {
  const resolved = path.resolve(dir, relative);
  const back = path.relative(dir, resolved);
  if (back === '' || back.startsWith('..') || path.isAbsolute(back)) {
    throw new NotFoundError('Solution not found in the local solutions', 'solution_not_found');
  }
  return resolved;
}

async function isDirectory(target: string): Promise<boolean> {
  try {
    return (await stat(target)).isDirectory();
  } catch {
    return false;
  }
}

/** Sub-folders whose names are valid ids, hidden ones (imports in progress) aside; a missing folder has none. */
async function safeSubfolders(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const folders: string[] = [];
  for (const name of names.sort()) {
    if (isSafeId(name) && !name.startsWith('.') && (await isDirectory(path.join(dir, name)))) folders.push(name);
  }
  return folders;
}
