import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { DOWNLOAD_PATH, type DownloadSigner } from '../../services/packages/download-url.js';
import type { Config } from '../../config.js';
import type { PackageService } from '../../services/packages/service.js';
import { UploadOffsetMismatchError } from '../../services/packages/errors.js';
import { AppError } from '../../errors.js';
import { requirePrincipal } from '../deployments/routes.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import type { App } from '../types.js';
import { JobSummary } from '../jobs/schemas.js';
import { CompletedPackageSchema, DeclareUploadInput, PackageList, UploadOffsetHeaders, UploadSchema } from './schemas.js';

export const OFFSET_CONTENT_TYPE = 'application/offset+octet-stream';
/** Names the rollout job a completed upload of a new version started. */
export const ROLLOUT_JOB_HEADER = 'slipway-rollout-job';

/**
 * /api/v1/clusters/:id/packages: resumable uploads after tus — declare (POST), send bytes at the
 * offset the server has (PATCH with `Upload-Offset`; 409 with the right offset otherwise), ask
 * where it stands (HEAD), drop it (DELETE). The body of a PATCH is streamed to the store as it
 * arrives (a content-type parser scoped to these routes hands the raw stream through): a large
 * package is never held in memory. The last byte completes the upload: sha256 checked (422 and
 * discarded when it differs), the version recorded, a rollout started when it is new.
 */
/** A PATCH's answer: where the upload stands, and the rollout the last byte started. */
const PatchAccepted = Type.Null({
  description: 'The chunk is stored; the last one also completes the upload',
  headers: {
    'upload-offset': { type: 'string', description: 'Where the next chunk starts' },
    [ROLLOUT_JOB_HEADER]: { type: 'string', format: 'uuid', description: 'Set when this chunk completed the upload of a new version: the rollout job it started (POST …/complete answers it too)' },
  },
});

export async function packageRoutes(app: App, deps: { packages: PackageService; config: Config; downloads: DownloadSigner }): Promise<void> {
  await app.register(async (scoped) => {
    const api = scoped as App;
    api.addContentTypeParser(OFFSET_CONTENT_TYPE, (_request, payload, done) => done(null, payload));
    const ClusterParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
    const UploadParams = Type.Object({ id: Type.String({ format: 'uuid' }), uploadId: Type.String({ format: 'uuid' }) });
    const who = (principal: Parameters<typeof requirePrincipal>[0]) => {
      const p = requirePrincipal(principal);
      return { p, admin: api.isAdmin(p) };
    };
    const uploadUrl = (clusterId: string, uploadId: string) => `${deps.config.basePath}/api/v1/clusters/${clusterId}/packages/uploads/${uploadId}`;
    const errors = { ...problemResponses, 409: ProblemSchema, 413: ProblemSchema, 422: ProblemSchema };

    api.post('/api/v1/clusters/:id/packages', { preHandler: [api.authenticate, api.idempotent], schema: { tags: ['packages'], summary: 'Declare a package upload (name, version, sha256, size); send the bytes to the Location', params: ClusterParams, body: DeclareUploadInput, response: { 201: UploadSchema, ...errors } } }, async (request, reply) => {
      const { p, admin } = who(request.principal);
      const upload = await deps.packages.declare(p, request.params.id, admin, request.body);
      const location = uploadUrl(upload.clusterId, upload.id);
      return reply.status(201).header('location', location).header('upload-offset', '0').header('upload-length', String(upload.size))
        .send({ id: upload.id, clusterId: upload.clusterId, name: upload.name, version: upload.version, sha256: upload.sha256, size: upload.size, offset: 0, location });
    });

    api.post('/api/v1/clusters/:id/package-rollouts', { preHandler: [api.authenticate, api.idempotent], schema: { tags: ['packages'], summary: "Roll the cluster's current packages out again, to every node whose versions differ (uploads and new Nodes start rollouts by themselves)", params: ClusterParams, response: { 202: JobSummary, ...problemResponses, 409: ProblemSchema } } }, async (request, reply) => {
      const { p, admin } = who(request.principal);
      const job = await deps.packages.rolloutNow(p, request.params.id, admin);
      return reply.status(202).header('location', `${deps.config.basePath}/api/v1/jobs/${job.id}`).send(job);
    });

    api.get('/api/v1/clusters/:id/packages', { preHandler: api.authenticate, schema: { tags: ['packages'], summary: "The cluster's package versions", params: ClusterParams, response: { 200: PackageList, ...problemResponses } } }, async (request) => {
      const { p, admin } = who(request.principal);
      return { items: await deps.packages.list(p, request.params.id, admin) };
    });

    api.head('/api/v1/clusters/:id/packages/uploads/:uploadId', { preHandler: api.authenticate, schema: { tags: ['packages'], summary: 'Where an upload stands: Upload-Offset and Upload-Length headers', params: UploadParams } }, async (request, reply) => {
      const { p, admin } = who(request.principal);
      const status = await deps.packages.status(p, request.params.id, request.params.uploadId, admin);
      return reply.status(200).header('upload-offset', String(status.offset)).header('upload-length', String(status.size)).header('cache-control', 'no-store').send();
    });

    api.patch('/api/v1/clusters/:id/packages/uploads/:uploadId', { preHandler: api.authenticate, schema: { tags: ['packages'], summary: `Send bytes from Upload-Offset (body ${OFFSET_CONTENT_TYPE}); 204 with the new Upload-Offset, 409 with the current one when the offset is wrong`, params: UploadParams, headers: UploadOffsetHeaders, consumes: [OFFSET_CONTENT_TYPE], response: { 204: PatchAccepted, ...errors, 415: ProblemSchema } } }, async (request, reply) => {
      const { p, admin } = who(request.principal);
      if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith(OFFSET_CONTENT_TYPE)) {
        throw new AppError('unsupported_media_type', 415, `Send the bytes as ${OFFSET_CONTENT_TYPE}`);
      }
      const body = request.body instanceof Readable ? request.body : Readable.from([]);
      try {
        const result = await deps.packages.append(p, request.params.id, request.params.uploadId, admin, Number(request.headers['upload-offset']), body);
        reply.header('upload-offset', String(result.offset));
        if (result.completed?.rolloutJobId) reply.header(ROLLOUT_JOB_HEADER, result.completed.rolloutJobId);
        return reply.status(204).send(null);
      } catch (error: unknown) {
        if (error instanceof UploadOffsetMismatchError) reply.header('upload-offset', String(error.offset));
        throw error;
      }
    });

    api.post('/api/v1/clusters/:id/packages/uploads/:uploadId/complete', { preHandler: [api.authenticate, api.idempotent], schema: { tags: ['packages'], summary: 'Complete an upload whose bytes are all there (the last PATCH does it too): sha256 checked, version recorded, rollout started when new', params: UploadParams, response: { 201: CompletedPackageSchema, ...errors } } }, async (request, reply) => {
      const { p, admin } = who(request.principal);
      return reply.status(201).send(await deps.packages.complete(p, request.params.id, request.params.uploadId, admin));
    });

    api.delete('/api/v1/clusters/:id/packages/uploads/:uploadId', { preHandler: api.authenticate, schema: { tags: ['packages'], summary: 'Drop an unfinished upload', params: UploadParams, response: { 204: Type.Null(), ...problemResponses } } }, async (request, reply) => {
      const { p, admin } = who(request.principal);
      await deps.packages.discard(p, request.params.id, request.params.uploadId, admin);
      return reply.status(204).send(null);
    });

    const sendFile = (reply: FastifyReply, file: { path: string; size: number; sha256: string }) =>
      reply.type('application/octet-stream').header('content-length', String(file.size)).header('digest', `sha-256=${Buffer.from(file.sha256, 'hex').toString('base64')}`).send(createReadStream(file.path));
    const PackageParams = { name: Type.String({ maxLength: 128 }), version: Type.String({ maxLength: 128 }) };

    api.get('/api/v1/clusters/:id/packages/:name/:version/content', { preHandler: api.authenticate, schema: { tags: ['packages'], summary: "A package's bytes, for the cluster's owner", params: Type.Object({ id: Type.String({ format: 'uuid' }), ...PackageParams }), produces: ['application/octet-stream'] } }, async (request, reply) => {
      const { p, admin } = who(request.principal);
      return sendFile(reply, await deps.packages.file(p, request.params.id, request.params.name, request.params.version, admin));
    });

    // What node installers download: no token, the link itself is the credential (GET only).
    api.get(`${DOWNLOAD_PATH}/:clusterId/:name/:version`, {
      exposeHeadRoute: false,
      schema: {
        tags: ['packages'],
        summary: "A package's bytes through a signed link (what the install Job gets): one cluster, package and version, expiring (PACKAGE_URL_TTL); 403 when expired or changed",
        params: Type.Object({ clusterId: Type.String({ format: 'uuid' }), ...PackageParams }),
        querystring: Type.Object({ expires: Type.String({ maxLength: 12 }), signature: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        produces: ['application/octet-stream'],
        response: { 403: ProblemSchema, 404: ProblemSchema },
      },
    }, async (request, reply) => {
      const target = { clusterId: request.params.clusterId, name: request.params.name, version: request.params.version };
      deps.downloads.verify(target, request.query.expires, request.query.signature);
      return sendFile(reply, await deps.packages.downloadFile(target));
    });
  });
}
