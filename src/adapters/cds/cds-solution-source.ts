import { BlueprintInvalidError, NotFoundError, errorMessage } from '../../errors.js';
import type { ModelSolution, PipelineSolution, Solution, SolutionSource } from '../../domain/solution.js';
import { basicAuthorization, requestWithRetry, unexpectedStatusError, type HttpResponse } from '../http-client.js';
import { assertSolutionIds } from '../solution-ids.js';
import { mapBounded } from '../map-bounded.js';
import {
  ArtifactType,
  findArtifact,
  missingArtifactError,
  nexusArtifactUrl,
  parseJson,
  protoReferences,
  toArtifacts,
  toSolutionRecord,
  type CdsArtifact,
} from './cds-records.js';

/**
 * Solutions from a Graphene install: the record and artifact list from the common data service
 * (CDS), the blueprint and protos from Nexus. Read-only and idempotent: every call may be repeated.
 */
export interface CdsEndpoint {
  /** Base URL including the context path, e.g. http://cds-service:8000/ccds. */
  url: string;
  user: string | undefined;
  password: string | undefined;
}

export interface CdsSolutionSourceOptions {
  cds: CdsEndpoint;
  nexus: CdsEndpoint;
  /** Deadline of each HTTP call, its retries included. */
  timeoutMs: number;
  /** Extra attempts on network errors, 429 and 502–504. Default 2. */
  retries?: number;
  /** First backoff ceiling. Default 200 ms. */
  retryBaseDelayMs?: number;
  /** Proto downloads running at once for one pipeline. Default 4. */
  protoConcurrency?: number;
}

const CDS = 'CDS';
const NEXUS = 'Nexus';

export class CdsSolutionSource implements SolutionSource {
  constructor(private readonly options: CdsSolutionSourceOptions) {}

  async getSolution(solutionId: string, revisionId: string): Promise<Solution> {
    assertSolutionIds(solutionId, revisionId);
    const record = await this.fetchSolutionRecord(solutionId);
    const artifacts = await this.fetchArtifacts(revisionId);
    const base = { solutionId, revisionId, name: record.name };
    if (record.toolkitTypeCode === 'CP') return { ...base, kind: 'pipeline', ...(await this.loadPipeline(artifacts, revisionId)) };
    return { ...base, kind: 'model', ...(await this.loadModel(artifacts, revisionId, record.name)) };
  }

  private async fetchSolutionRecord(solutionId: string): Promise<ReturnType<typeof toSolutionRecord>> {
    const url = `${this.options.cds.url}/solution/${encodeURIComponent(solutionId)}`;
    const response = await this.get(CDS, this.options.cds, url);
    if (response.status === 404) throw new NotFoundError(`Solution ${solutionId} not found in CDS`, 'solution_not_found');
    this.expectOk(CDS, url, response);
    return toSolutionRecord(parseJson(CDS, `solution ${solutionId}`, response.text), solutionId);
  }

  private async fetchArtifacts(revisionId: string): Promise<CdsArtifact[]> {
    const url = `${this.options.cds.url}/revision/${encodeURIComponent(revisionId)}/artifact`;
    const response = await this.get(CDS, this.options.cds, url);
    if (response.status === 404) throw new NotFoundError(`Revision ${revisionId} not found in CDS`, 'revision_not_found');
    this.expectOk(CDS, url, response);
    return toArtifacts(parseJson(CDS, `the artifacts of revision ${revisionId}`, response.text), revisionId);
  }

  private async loadPipeline(artifacts: CdsArtifact[], revisionId: string): Promise<Pick<PipelineSolution, 'blueprint' | 'protos'>> {
    const blueprintArtifact = findArtifact(artifacts, ArtifactType.blueprint);
    if (!blueprintArtifact) throw missingArtifactError(ArtifactType.blueprint, revisionId);
    const blueprintText = await this.fetchNexusArtifact(blueprintArtifact.uri);
    if (blueprintText === undefined) throw missingArtifactError(ArtifactType.blueprint, revisionId);
    const blueprint = parseBlueprint(blueprintText);
    return { blueprint, protos: await this.fetchProtos(blueprint) };
  }

  private async loadModel(artifacts: CdsArtifact[], revisionId: string, solutionName: string): Promise<Omit<ModelSolution, 'kind' | 'solutionId' | 'revisionId' | 'name'>> {
    const image = findArtifact(artifacts, ArtifactType.dockerImage);
    if (!image) throw missingArtifactError(ArtifactType.dockerImage, revisionId);
    const protoArtifact = findArtifact(artifacts, ArtifactType.modelProto);
    // A model without a proto still deploys (it just can't join a pipeline): a 404 is not an error.
    const proto = protoArtifact ? await this.fetchNexusArtifact(protoArtifact.uri) : undefined;
    const model = { containerName: image.name.trim() === '' ? solutionName : image.name, image: image.uri.trim() };
    return proto === undefined ? model : { ...model, proto };
  }

  /** Protos keyed by container name; a proto Nexus doesn't have is left out, as the interface says. */
  private async fetchProtos(blueprint: unknown): Promise<Record<string, string>> {
    const refs = protoReferences(blueprint);
    const texts = await mapBounded(refs, this.options.protoConcurrency ?? 4, (ref) => this.fetchNexusArtifact(ref.protoUri));
    const protos: Record<string, string> = {};
    refs.forEach((ref, index) => {
      const text = texts[index];
      if (text !== undefined) protos[ref.containerName] = text;
    });
    return protos;
  }

  /** The artifact's text, or undefined when Nexus says 404. */
  private async fetchNexusArtifact(uri: string): Promise<string | undefined> {
    const url = nexusArtifactUrl(this.options.nexus.url, uri);
    const response = await this.get(NEXUS, this.options.nexus, url);
    if (response.status === 404) return undefined;
    this.expectOk(NEXUS, url, response);
    return response.text;
  }

  private get(system: string, endpoint: CdsEndpoint, url: string): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json, text/plain, */*' };
    const authorization = basicAuthorization(endpoint.user, endpoint.password);
    if (authorization !== undefined) headers.authorization = authorization;
    return requestWithRetry(system, url, {
      headers,
      timeoutMs: this.options.timeoutMs,
      retries: this.options.retries,
      retryBaseDelayMs: this.options.retryBaseDelayMs,
    });
  }

  private expectOk(system: string, url: string, response: HttpResponse): void {
    if (response.status < 200 || response.status > 299) throw unexpectedStatusError(system, 'GET', url, response.status);
  }
}

function parseBlueprint(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error: unknown) {
    throw new BlueprintInvalidError([`blueprint.json from Nexus is not valid JSON (${errorMessage(error)})`]);
  }
}
