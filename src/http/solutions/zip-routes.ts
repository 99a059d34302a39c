/**
 * solution.zip: the download Graphene's "deploy to local" offers (KC's `GET /getSolutionZip`, here
 * authenticated), the same under /api/v1, and the import that makes a zip deployable without
 * Graphene. Thin: schema → service → reply.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { LocalSolutionSource } from '../../adapters/local-solutions/local-solution-source.js';
import type { Config } from '../../config.js';
import type { SolutionSource } from '../../domain/solution.js';
import { AppError, ValidationError } from '../../errors.js';
import { exportSolutionZip, importSolutionZip, type ImportResult } from '../../services/solution-zip/service.js';
import { DEFAULT_ZIP_LIMITS } from '../../services/solution-zip/zip-archive.js';
import { requirePrincipal } from '../deployments/routes.js';
import { Id, ProblemSchema, problemResponses } from '../schemas.js';
import type { App } from '../types.js';

export interface SolutionZipRouteDeps {
  solutionSource: SolutionSource;
  config: Config;
  localSolutions: LocalSolutionSource;
}

/** Multipart field names accepted for the uploaded zip. */
export const UPLOAD_FIELD_NAMES = ['file', 'solution'] as const;

const SolutionParams = Type.Object({ solutionId: Id, revisionId: Id });

const ImportedSolutionSchema = Type.Object(
  {
    solutionId: Type.String(),
    revisionId: Type.String({ description: 'Derived from the content: the same zip always gets the same revision id' }),
    name: Type.String(),
    kind: Type.Union([Type.Literal('pipeline'), Type.Literal('model')]),
    created: Type.Boolean({ description: 'false when this content had been imported before' }),
    warnings: Type.Array(Type.String()),
  },
  { $id: 'ImportedSolution' },
);

const zipDownloadSchema = (summary: string) => ({
  tags: ['solutions'],
  summary,
  params: SolutionParams,
  produces: ['application/zip'],
  response: {
    200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'solution.zip' }),
    ...problemResponses,
    422: ProblemSchema,
    502: ProblemSchema,
    503: ProblemSchema,
  },
});

const importSchema = {
  tags: ['solutions'],
  summary: 'Import a solution.zip (multipart/form-data, field "file" or "solution"); the answer names ids every deploy endpoint accepts',
  consumes: ['multipart/form-data'],
  response: { 200: ImportedSolutionSchema, 201: ImportedSolutionSchema, ...problemResponses, 413: ProblemSchema, 415: ProblemSchema },
};

async function readUpload(request: FastifyRequest): Promise<Buffer> {
  if (!request.isMultipart()) {
    throw new AppError('unsupported_media_type', 415, 'Send solution.zip as multipart/form-data, e.g. curl -F file=@solution.zip …');
  }
  const limit = DEFAULT_ZIP_LIMITS.maxArchiveBytes;
  const part = await request.file({ limits: { fileSize: limit } });
  if (part === undefined) throw new ValidationError('No file in the upload: send solution.zip in the field "file"', ['file: is required']);
  const field: string = part.fieldname;
  if (!(UPLOAD_FIELD_NAMES as readonly string[]).includes(field)) {
    part.file.resume();
    throw new ValidationError(`The zip must be sent in the field "file" (or "solution"), not "${field}"`, [`${field}: unexpected file field`]);
  }
  try {
    return await part.toBuffer();
  } catch (error: unknown) {
    if (error instanceof Error && 'code' in error && error.code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new AppError('payload_too_large', 413, `solution.zip is larger than ${limit / (1024 * 1024)} MiB`);
    }
    throw error;
  }
}

export async function solutionZipRoutes(app: App, deps: SolutionZipRouteDeps): Promise<void> {
  const lookup = { solutionSource: deps.solutionSource, localSolutions: deps.localSolutions };

  const downloads = [
    { url: '/getSolutionZip/:solutionId/:revisionId', summary: "solution.zip for Graphene's deploy-to-local (the reference kubernetes-client's path)" },
    { url: '/api/v1/solutions/:solutionId/revisions/:revisionId/solution.zip', summary: 'solution.zip: manifests, deploy script and readme to deploy this revision with kubectl' },
  ];
  for (const { url, summary } of downloads) {
    app.get(url, { preHandler: app.authenticate, schema: zipDownloadSchema(summary) }, async (request, reply) => {
      requirePrincipal(request.principal);
      const zip = await exportSolutionZip(lookup, deps.config, request.params.solutionId, request.params.revisionId);
      return reply.type('application/zip').header('content-disposition', 'attachment; filename="solution.zip"').send(zip);
    });
  }

  const upload = async (request: FastifyRequest): Promise<ImportResult> => {
    requirePrincipal(request.principal);
    const result = await importSolutionZip(await readUpload(request), deps.localSolutions);
    request.log.info({ solutionId: result.solutionId, revisionId: result.revisionId, created: result.created }, 'solution.zip imported');
    return result;
  };

  app.post('/api/v1/solutions', { preHandler: app.authenticate, schema: importSchema }, async (request, reply) => {
    const result = await upload(request);
    return reply.status(result.created ? 201 : 200).send(result);
  });

  // The upload form's target: errors come back as pages (no /api/ in the path), success opens the deploy form.
  app.post('/solutions/import', { preHandler: app.authenticate, schema: { hide: true } }, async (request, reply) => {
    const result = await upload(request);
    const ids = `${encodeURIComponent(result.solutionId)}/${encodeURIComponent(result.revisionId)}`;
    return reply.redirect(`${deps.config.basePath}/deploy/${ids}`, 303);
  });
}
