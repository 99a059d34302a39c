import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { SolutionSource } from '../domain/solution.js';
import { CdsSolutionSource } from './cds/cds-solution-source.js';
import { LocalSolutionSource } from './local-solutions/local-solution-source.js';

/** The solution source the configuration asks for. */
export function createSolutionSource(config: Config): SolutionSource {
  if (config.solutionSource === 'cds') {
    if (!config.cds || !config.nexus) throw new ConfigError(['SOLUTION_SOURCE=cds needs CDS_URL and NEXUS_URL']);
    return new CdsSolutionSource({ cds: config.cds, nexus: config.nexus, timeoutMs: config.upstreamTimeoutMs });
  }
  const examples = bundledExamplesDir();
  return new LocalSolutionSource({ dirs: examples === undefined ? [config.solutionsDir] : [config.solutionsDir, examples] });
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
