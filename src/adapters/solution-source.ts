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
  const cached = (source: SolutionSource): SolutionSource =>
    config.solutionCacheMs > 0 ? new CachedSolutionSource(source, { ttlMs: config.solutionCacheMs }) : source;
  if (config.solutionSource !== 'cds') return { source: cached(local), local };
  if (!config.cds || !config.nexus) throw new ConfigError(['SOLUTION_SOURCE=cds needs CDS_URL and NEXUS_URL']);
  const cds = new CdsSolutionSource({ cds: config.cds, nexus: config.nexus, timeoutMs: config.upstreamTimeoutMs });
  return { source: cached(new LayeredSolutionSource(local, cds)), local };
}

export interface SolutionCacheOptions {
  ttlMs: number;
  /** Revisions kept at most; the oldest goes first. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Keeps fetched revisions in memory for a short while: a deploy request fetches the solution to
 * check it, and its job — usually on the same replica a moment later — uses that copy instead of
 * asking CDS and Nexus (or the disk) again. A revision's content does not change in Graphene (an
 * imported solution.zip gets a revision id derived from its content), so a short-lived copy is
 * not stale. Callers asking for the same revision at once share one fetch; failures are not kept;
 * every caller gets its own copy.
 */
export class CachedSolutionSource implements SolutionSource {
  private readonly entries = new Map<string, { at: number; solution: Promise<Solution> }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    readonly inner: SolutionSource,
    private readonly options: SolutionCacheOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 100;
    this.now = options.now ?? Date.now;
  }

  async getSolution(solutionId: string, revisionId: string): Promise<Solution> {
    const key = `${solutionId}\u0000${revisionId}`;
    const now = this.now();
    let entry = this.entries.get(key);
    if (entry === undefined || now - entry.at >= this.options.ttlMs) {
      entry = { at: now, solution: this.inner.getSolution(solutionId, revisionId) };
      this.entries.delete(key);
      this.entries.set(key, entry);
      const stored = entry;
      stored.solution.catch(() => {
        if (this.entries.get(key) === stored) this.entries.delete(key);
      });
      for (const oldest of this.entries.keys()) {
        if (this.entries.size <= this.maxEntries) break;
        this.entries.delete(oldest);
      }
    }
    return structuredClone(await entry.solution);
  }
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
