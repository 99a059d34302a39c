import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import { ConfigError, NotFoundError } from '../errors.js';
import type { Solution, SolutionSource } from '../domain/solution.js';
import { CdsSolutionSource } from './cds/cds-solution-source.js';
import { LocalSolutionSource } from './local-solutions/local-solution-source.js';

/** The solution source the configuration asks for. */
export function createSolutionSource(config: Config): SolutionSource {
  return createSolutionSources(config).source;
}

/**
 * The sources a running service uses: `local` (imported solution.zips and the bundled
 * examples; imports are written there) and `source`, what every deploy reads — the local folders
 * alone, or, with CDS configured, the local folders first and CDS for everything else, so an
 * imported solution deploys whichever source is configured.
 */
export function createSolutionSources(config: Config): { source: SolutionSource; local: LocalSolutionSource } {
  const examples = bundledExamplesDir();
  const local = new LocalSolutionSource({ dirs: examples === undefined ? [config.solutionsDir] : [config.solutionsDir, examples] });
  if (config.solutionSource !== 'cds') return { source: local, local };
  if (!config.cds || !config.nexus) throw new ConfigError(['SOLUTION_SOURCE=cds needs CDS_URL and NEXUS_URL']);
  const cds = new CdsSolutionSource({ cds: config.cds, nexus: config.nexus, timeoutMs: config.upstreamTimeoutMs });
  return { source: new LayeredSolutionSource(local, cds), local };
}

/** Looks in `first`, and in `then` for what `first` does not have. */
export class LayeredSolutionSource implements SolutionSource {
  constructor(
    private readonly first: SolutionSource,
    private readonly then: SolutionSource,
  ) {}

  async getSolution(solutionId: string, revisionId: string): Promise<Solution> {
    try {
      return await this.first.getSolution(solutionId, revisionId);
    } catch (error: unknown) {
      if (!(error instanceof NotFoundError)) throw error;
      return this.then.getSolution(solutionId, revisionId);
    }
  }
}

/**
 * examples/solutions of this checkout or package. This file is src/adapters/solution-source.ts
 * under tsx, and dist/src/adapters/solution-source.js (rootDir ".") or dist/adapters/… (rootDir
 * "src") once built, so the folder is two or three levels up; the first that exists wins. A
 * package that leaves the examples out simply has none.
 */
export function bundledExamplesDir(): string | undefined {
  const candidates = ['../../examples/solutions', '../../../examples/solutions'];
  for (const candidate of candidates) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return undefined;
}
