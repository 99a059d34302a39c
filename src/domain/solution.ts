/**
 * A Graphene solution revision as Slipway sees it, whichever source it came from (CDS + Nexus,
 * the local solutions folder, an imported solution.zip).
 */
export type Solution = PipelineSolution | ModelSolution;

interface SolutionBase {
  solutionId: string;
  revisionId: string;
  /** Human name of the solution, as CDS calls it ("Sudoku Tutorial"). */
  name: string;
}

/** A composite solution (CDS toolkitTypeCode `CP`): a blueprint and one proto per node. */
export interface PipelineSolution extends SolutionBase {
  kind: 'pipeline';
  /** blueprint.json exactly as parsed (JSON.parse keeps key order); validated by domain/blueprint. */
  blueprint: unknown;
  /** Proto text keyed by the node's blueprint `container_name`. Nodes without a proto are absent. */
  protos: Record<string, string>;
}

/** A single model (any other toolkitTypeCode): one container, no orchestrator. */
export interface ModelSolution extends SolutionBase {
  kind: 'model';
  /** Container name from the `DI` artifact's name (or the solution name). */
  containerName: string;
  /** Image reference from the `DI` artifact's uri. */
  image: string;
  /** The model's proto, when the source has it. */
  proto?: string;
}

/** Where solutions come from. Implementations: adapters/cds, adapters/local-solutions. */
export interface SolutionSource {
  /**
   * Fetch one revision. Idempotent, read-only.
   * Throws NotFoundError when the solution or revision does not exist, UpstreamError when the
   * source cannot be reached or answers nonsense.
   */
  getSolution(solutionId: string, revisionId: string): Promise<Solution>;
}
