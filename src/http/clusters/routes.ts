import { Type } from '@sinclair/typebox';
import type { Config } from '../../config.js';
import type { ClusterService } from '../../services/clusters/service.js';
import type { BootstrapService } from '../../services/clusters/bootstrap.js';
import type { Cluster } from '../../services/clusters/model.js';
import { requirePrincipal } from '../deployments/routes.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import { JobSummary } from '../sites/schemas.js';
import type { App } from '../types.js';
import { clustersPage } from '../views/inventory-pages.js';
import { ClusterSchema, RegisterClusterInput, ScaleOutInput } from './schemas.js';

/** What the API shows of a cluster: never its kube config. */
export function clusterView(cluster: Cluster) {
  const { request: _request, plan, ...rest } = cluster;
  return {
    ...rest,
    plan: plan ? { controlPlane: plan.split.controlPlane, workers: plan.split.workers, addons: plan.addons, notes: plan.notes } : null,
    nodes: cluster.nodes.map((n) => ({ name: n.name, address: n.address, role: n.role })),
  };
}

/** /api/v1/clusters: the cluster registry (register, list, read, delete) and scale-out. */
export async function clusterRoutes(app: App, deps: { clusters: ClusterService; bootstrap: BootstrapService; config: Config }): Promise<void> {
  const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
  const who = (principal: Parameters<typeof requirePrincipal>[0]) => {
    const p = requirePrincipal(principal);
    return { p, admin: app.isAdmin(p) };
  };
  const base = deps.config.basePath;
  const errors = { ...problemResponses, 409: ProblemSchema };

  app.post('/api/v1/clusters', { preHandler: [app.authenticate, app.idempotent], schema: { tags: ['clusters'], summary: 'Register a cluster by its kube config (checked as for deploys, stored encrypted, never returned)', body: RegisterClusterInput, response: { 201: ClusterSchema, ...errors } } }, async (request, reply) => {
    const { p } = who(request.principal);
    const cluster = await deps.clusters.register(p, request.body);
    return reply.status(201).header('location', `${base}/api/v1/clusters/${cluster.id}`).send(clusterView(cluster));
  });
  app.get('/api/v1/clusters', { preHandler: app.authenticate, schema: { tags: ['clusters'], summary: 'Your clusters (an admin sees all)', response: { 200: Type.Object({ items: Type.Array(ClusterSchema) }), ...problemResponses } } }, async (request) => {
    const { p, admin } = who(request.principal);
    return { items: (await deps.clusters.list(p, admin)).map(clusterView) };
  });
  app.get('/clusters', { preHandler: app.authenticate, schema: { hide: true } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    return reply.type('text/html; charset=utf-8').send(clustersPage(await deps.clusters.list(p, admin), base, admin));
  });
  app.get('/api/v1/clusters/:id', { preHandler: app.authenticate, schema: { tags: ['clusters'], summary: 'Read a cluster (never its kube config)', params: IdParams, response: { 200: ClusterSchema, ...problemResponses } } }, async (request) => {
    const { p, admin } = who(request.principal);
    return clusterView(await deps.clusters.get(p, request.params.id, admin));
  });
  app.delete('/api/v1/clusters/:id', { preHandler: app.authenticate, schema: { tags: ['clusters'], summary: 'Forget a cluster (a bootstrapped cluster keeps running)', params: IdParams, response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    await deps.clusters.remove(p, request.params.id, admin);
    return reply.status(204).send(null);
  });
  app.post('/api/v1/clusters/:id/scale-out', { preHandler: [app.authenticate, app.idempotent], schema: { tags: ['clusters'], summary: 'Join provisioned hosts of the site to a bootstrapped cluster as workers (installer limited to them)', params: IdParams, body: ScaleOutInput, response: { 202: JobSummary, ...errors, 503: ProblemSchema } } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    const job = await deps.bootstrap.scaleOut(p, request.params.id, request.body.hosts, admin);
    return reply.status(202).header('location', `${base}/api/v1/jobs/${job.id}`).send(job);
  });
}
