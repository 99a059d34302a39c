/** solution.zip export and import, as the HTTP routes use them. */
import type { LocalSolutionSource } from '../../adapters/local-solutions/local-solution-source.js';
import type { Config } from '../../config.js';
import type { Solution, SolutionSource } from '../../domain/solution.js';
import { NotFoundError } from '../../errors.js';
import { buildSolutionZip } from './export.js';
import { readSolutionZip } from './import.js';
import { storeSolution } from './store.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip-archive.js';

export interface ImportResult {
  solutionId: string;
  revisionId: string;
  name: string;
  kind: Solution['kind'];
  /** False when the same content had been imported before (same ids, nothing written). */
  created: boolean;
  warnings: string[];
}

export interface SolutionLookup {
  solutionSource: SolutionSource;
  /** Imported solutions live here; looked in first, so they are found whatever the main source. */
  localSolutions: LocalSolutionSource;
}

/** The revision from the local folders (imports, examples) if there, else from the main source. */
export async function findSolution(lookup: SolutionLookup, solutionId: string, revisionId: string): Promise<Solution> {
  if (lookup.localSolutions === lookup.solutionSource) return lookup.solutionSource.getSolution(solutionId, revisionId);
  try {
    return await lookup.localSolutions.getSolution(solutionId, revisionId);
  } catch (error: unknown) {
    if (!(error instanceof NotFoundError)) throw error;
    return lookup.solutionSource.getSolution(solutionId, revisionId);
  }
}

export async function exportSolutionZip(lookup: SolutionLookup, config: Config, solutionId: string, revisionId: string): Promise<Buffer> {
  return buildSolutionZip(await findSolution(lookup, solutionId, revisionId), config);
}

/**
 * Checks the zip (nothing is written when anything is wrong), stores the solution in the local
 * source's writable folder, and reads it back through the source, so what is answered is exactly
 * what a deploy of these ids will find.
 */
export async function importSolutionZip(
  zip: Buffer,
  localSolutions: LocalSolutionSource,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<ImportResult> {
  const { solution, warnings } = readSolutionZip(zip, limits);
  const { created } = await storeSolution(solution, localSolutions.writableDir);
  const stored = await localSolutions.getSolution(solution.solutionId, solution.revisionId);
  return { solutionId: stored.solutionId, revisionId: stored.revisionId, name: stored.name, kind: stored.kind, created, warnings };
}
