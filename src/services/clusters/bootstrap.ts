import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import { inTransaction, type Pool } from '../../adapters/db/pool.js';
import { planBootstrap, type BootstrapHost, type BootstrapPlan, type BootstrapRequest, type ClusterApiImage } from '../../domain/bootstrap/index.js';
import type { Principal } from '../../http/auth/jwt.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { JobRecord } from '../../jobs/model.js';
import { appendEvent, insertJob } from '../../jobs/store.js';
import { AppError, ConflictError, NotFoundError, ValidationError, errorMessage } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { getSite, listHosts } from '../sites/store.js';
import type { Host } from '../sites/model.js';
import { bootstrapHostsOf } from './hosts.js';
import { CLUSTER_LABEL, type Cluster } from './model.js';
import * as store from './store.js';

export class BootstrapNotConfiguredError extends AppError {
  constructor() {
    super('bootstrap_not_configured', 503, 'This service has no BOOTSTRAP_KUBECONFIG: clusters cannot be bootstrapped');
  }
}

/** A bootstrap request as the API takes it: add-ons and engine may be left out. */
export type BootstrapInput = Omit<BootstrapRequest, 'addons' | 'engine'> & Partial<Pick<BootstrapRequest, 'addons' | 'engine'>>;

/** What a bootstrap or scale-out job reads: everything decided when it was asked for. */
export interface BootstrapJobInput {
  clusterId: string;
  site: string;
  request: BootstrapRequest;
  hosts: BootstrapHost[];
  scaleOut?: string[];
  capi?: { controlPlaneEndpoint: { host: string; port?: number }; image: ClusterApiImage };
}

const KUD_STEPS = ['plan cluster', 'apply installer', 'run installer', 'read kube config', 'register cluster'] as const;
const CAPI_STEPS = ['plan cluster', 'apply cluster objects', 'wait for cluster', 'read kube config', 'register cluster'] as const;

/** A principal for work a job does on its owner's behalf (authorisation was checked when it was asked for). */
export function ownerPrincipal(user: string): Principal {
  return { user, roles: [], expiresAt: new Date(8.64e15) };
}

/**
 * Bootstrap and scale-out jobs: the request is checked and planned here (hosts provisioned and
 * reachable, the split decided and explained), the cluster registered as `bootstrapping` and the
 * job enqueued in one transaction; the job does the rest.
 */
export class BootstrapService {
  constructor(private readonly deps: { config: Config; pool: Pool; queue: JobQueue }) {}

  async start(principal: Principal, site: string, input: BootstrapInput, isAdmin: boolean, options: { parentId?: string } = {}): Promise<{ job: JobRecord; cluster: Cluster; plan: BootstrapPlan }> {
    if (this.deps.config.bootstrapKubeconfig === undefined) throw new BootstrapNotConfiguredError();
    const siteRecord = await getSite(this.deps.pool, site);
    if (!siteRecord || !(isAdmin || siteRecord.owner === principal.user)) throw new NotFoundError(`Site ${site} not found`, 'site_not_found');
    const hosts = await listHosts(this.deps.pool, site);
    const taken = new Set((await store.listClusters(this.deps.pool, { site })).flatMap((c) => c.nodes.map((n) => n.name)));
    const named = [...(input.controlPlane ?? []), ...(input.workers ?? [])];
    const implicit = input.controlPlane !== undefined && input.workers !== undefined
      ? []
      : hosts.filter((h) => h.state === 'provisioned' && !taken.has(h.name) && !labelledForOther(h, input.name)).map((h) => h.name);
    const bootstrapHosts = bootstrapHostsOf(site, hosts, [...new Set([...named, ...implicit])]);
    const request: BootstrapRequest = {
      name: input.name,
      ...(input.controlPlane !== undefined ? { controlPlane: input.controlPlane } : {}),
      ...(input.workers !== undefined ? { workers: input.workers } : {}),
      kubernetesVersion: input.kubernetesVersion,
      podSubnet: input.podSubnet,
      serviceSubnet: input.serviceSubnet,
      addons: input.addons ?? [],
      engine: input.engine ?? 'kud-job',
    };
    const plan = planBootstrap(request, bootstrapHosts);
    const capi = request.engine === 'cluster-api' ? this.capiSettings(plan, bootstrapHosts, hosts) : undefined;
    const id = randomUUID();
    const { job, cluster } = await inTransaction(this.deps.pool, async (tx) => {
      const created = await store.insertCluster(tx, { id, name: request.name, owner: principal.user, origin: 'bootstrapped', status: 'bootstrapping', site, engine: request.engine, request, plan, nodes: [] });
      if (!created) throw new ConflictError(`You already have a cluster named ${request.name}`, 'cluster_exists');
      const jobInput: BootstrapJobInput = { clusterId: id, site, request, hosts: bootstrapHosts, ...(capi ? { capi } : {}) };
      const job = await insertJob(tx, {
        kind: 'bootstrap', subjectType: 'cluster', subjectId: id, owner: principal.user,
        input: jobInput as unknown as Record<string, unknown>,
        steps: request.engine === 'cluster-api' ? CAPI_STEPS : KUD_STEPS,
        ...(options.parentId ? { parentId: options.parentId } : {}),
      });
      await store.setClusterJob(tx, id, job.id);
      await appendEvent(tx, job.id, 'bootstrap.split', plan.notes.join('\n'), { controlPlane: plan.split.controlPlane, workers: plan.split.workers, explanation: plan.split.explanation });
      await this.deps.queue.enqueue(tx, 'bootstrap', job.id, { expireInSeconds: Math.ceil(this.deps.config.bootstrapTimeoutMs / 1000) + 600 });
      await recordAudit(tx, { actor: principal.user, action: 'bootstrap', subjectType: 'cluster', subjectId: id, result: 'accepted', detail: { site, name: request.name, engine: request.engine, jobId: job.id } });
      return { job, cluster: { ...created, jobId: job.id } };
    });
    this.deps.queue.wake('bootstrap');
    return { job, cluster, plan };
  }

  /** Joins provisioned hosts of the cluster's site to it as workers (KUD, limited to them). */
  async scaleOut(principal: Principal, clusterId: string, hostNames: readonly string[], isAdmin: boolean): Promise<JobRecord> {
    if (this.deps.config.bootstrapKubeconfig === undefined) throw new BootstrapNotConfiguredError();
    const cluster = await store.getCluster(this.deps.pool, clusterId);
    if (!cluster || !(isAdmin || cluster.owner === principal.user)) throw new NotFoundError(`Cluster ${clusterId} not found`, 'cluster_not_found');
    if (cluster.origin !== 'bootstrapped' || cluster.engine !== 'kud-job' || !cluster.site || !cluster.request || !cluster.plan) {
      throw new ConflictError(`Cluster ${cluster.name} was not bootstrapped by Slipway with the kud-job engine; add nodes to it with the tools that built it`, 'scale_out_unsupported');
    }
    if (cluster.status !== 'ready') throw new ConflictError(`Cluster ${cluster.name} is ${cluster.status}; it can grow once it is ready`, 'cluster_not_ready');
    const members = new Set(cluster.nodes.map((n) => n.name));
    const already = hostNames.filter((name) => members.has(name));
    if (already.length > 0) throw new ValidationError(`hosts: ${already.join(', ')} already belong to cluster ${cluster.name}`, already.map((n) => `hosts: ${n} is already a node`));
    const added = bootstrapHostsOf(cluster.site, await listHosts(this.deps.pool, cluster.site), hostNames);
    const request: BootstrapRequest = { ...cluster.request, controlPlane: cluster.plan.split.controlPlane, workers: [...cluster.plan.split.workers, ...added.map((h) => h.name)] };
    const hosts = [...cluster.nodes, ...added];
    planBootstrap(request, hosts);
    const job = await inTransaction(this.deps.pool, async (tx) => {
      await store.lockCluster(tx, clusterId);
      const busy = await store.clusterBusyJob(tx, clusterId);
      if (busy !== undefined) throw new ConflictError(`Cluster ${cluster.name} has job ${busy} in progress; wait for it`, 'cluster_busy', { jobId: busy });
      const jobInput: BootstrapJobInput = { clusterId, site: cluster.site ?? '', request, hosts, scaleOut: added.map((h) => h.name) };
      const created = await insertJob(tx, { kind: 'scale-out', subjectType: 'cluster', subjectId: clusterId, owner: cluster.owner, input: jobInput as unknown as Record<string, unknown>, steps: KUD_STEPS });
      await store.setClusterJob(tx, clusterId, created.id);
      await this.deps.queue.enqueue(tx, 'scale-out', created.id, { expireInSeconds: Math.ceil(this.deps.config.bootstrapTimeoutMs / 1000) + 600 });
      await recordAudit(tx, { actor: principal.user, action: 'scale-out', subjectType: 'cluster', subjectId: clusterId, result: 'accepted', detail: { hosts: hostNames, jobId: created.id } });
      return created;
    });
    this.deps.queue.wake('scale-out');
    return job;
  }

  /**
   * After provisioning: hosts labelled `slipway.io/cluster=<name>` of a bootstrapped cluster of
   * the site they are not yet part of join it. One line per cluster says what happened.
   */
  async scaleOutLabelledHosts(site: string, hostNames: readonly string[]): Promise<string[]> {
    const hosts = (await listHosts(this.deps.pool, site, hostNames)).filter((h) => h.state === 'provisioned' && h.labels[CLUSTER_LABEL] !== undefined);
    if (hosts.length === 0) return [];
    const clusters = await store.listClusters(this.deps.pool, { site });
    const notes: string[] = [];
    const byCluster = new Map<string, string[]>();
    for (const host of hosts) {
      const name = host.labels[CLUSTER_LABEL] ?? '';
      byCluster.set(name, [...(byCluster.get(name) ?? []), host.name]);
    }
    for (const [name, names] of byCluster) {
      const cluster = clusters.find((c) => c.name === name && c.origin === 'bootstrapped');
      const fresh = names.filter((n) => !cluster?.nodes.some((node) => node.name === n));
      if (!cluster) notes.push(`${names.join(', ')}: labelled for cluster ${name}, which is not a bootstrapped cluster of site ${site}`);
      else if (fresh.length === 0) continue;
      else {
        try {
          const job = await this.scaleOut(ownerPrincipal(cluster.owner), cluster.id, fresh, true);
          notes.push(`${fresh.join(', ')}: joining cluster ${name} (scale-out job ${job.id})`);
        } catch (error: unknown) {
          if (!(error instanceof AppError)) throw error;
          notes.push(`${fresh.join(', ')}: cannot join cluster ${name}: ${errorMessage(error)}`);
        }
      }
    }
    return notes;
  }

  private capiSettings(plan: BootstrapPlan, chosen: readonly BootstrapHost[], hosts: readonly Host[]): BootstrapJobInput['capi'] {
    const first = plan.split.controlPlane[0] ?? '';
    const address = chosen.find((h) => h.name === first)?.address ?? '';
    const hostImage = hosts.find((h) => h.name === first)?.spec.image;
    const image: ClusterApiImage | undefined = this.deps.config.capiImage
      ?? (hostImage ? { url: hostImage.url, checksum: hostImage.checksum, checksumType: hostImage.checksumType, ...(hostImage.format ? { format: hostImage.format } : {}) } : undefined);
    if (!image) throw new ValidationError('CAPI_IMAGE_URL is not set and the control-plane host has no image', ['image: none']);
    return { controlPlaneEndpoint: this.deps.config.capiControlPlaneEndpoint ?? { host: address, port: 6443 }, image };
  }
}

function labelledForOther(host: Host, cluster: string): boolean {
  const label = host.labels[CLUSTER_LABEL];
  return label !== undefined && label !== cluster;
}
