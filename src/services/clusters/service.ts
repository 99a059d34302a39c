import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import { parseKubeconfig, type SafeKubeconfig } from '../../domain/kubeconfig.js';
import type { Principal } from '../../http/auth/jwt.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import type { Cluster } from './model.js';
import * as store from './store.js';

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The context a cluster's sealed kube config is bound to: it opens only for this cluster's row. */
export function clusterKubeconfigContext(clusterId: string): string {
  return `cluster:${clusterId}:kubeconfig`;
}

export class ClusterNotReadyError extends ConflictError {
  constructor(cluster: Pick<Cluster, 'id' | 'name' | 'status'>) {
    super(`Cluster ${cluster.name} is ${cluster.status}, not ready; wait for its bootstrap job or register it again`, 'cluster_not_ready', { clusterId: cluster.id });
  }
}

/** Opens a cluster's sealed kube config; only inside a request or job that needs it. */
export async function openClusterKubeconfig(deps: { pool: Pool; secretBox: SecretBox }, clusterId: string): Promise<SafeKubeconfig | undefined> {
  const sealed = await store.getSealedKubeconfig(deps.pool, clusterId);
  return sealed === undefined ? undefined : (JSON.parse(deps.secretBox.open(sealed, clusterKubeconfigContext(clusterId))) as SafeKubeconfig);
}

/**
 * The cluster registry: clusters registered with a kube config or bootstrapped by Slipway. A
 * cluster belongs to whoever registered (or bootstrapped) it; its owner and admins see it.
 */
export class ClusterService {
  constructor(private readonly deps: { config: Config; pool: Pool; secretBox: SecretBox }) {}

  async register(principal: Principal, input: { name: string; kubeconfig: string }): Promise<Cluster> {
    if (input.name.length > 63 || !CLUSTER_NAME.test(input.name)) {
      throw new ValidationError(`name: "${input.name}" must be lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit`, ['name: not a DNS label']);
    }
    const kubeconfig = parseKubeconfig(input.kubeconfig, { allowInsecure: this.deps.config.allowInsecureClusters });
    const id = randomUUID();
    const cluster = await store.insertCluster(this.deps.pool, {
      id,
      name: input.name,
      owner: principal.user,
      origin: 'registered',
      status: 'ready',
      server: kubeconfig.server,
      sealedKubeconfig: this.deps.secretBox.seal(JSON.stringify(kubeconfig), clusterKubeconfigContext(id)),
    });
    if (!cluster) throw new ConflictError(`You already have a cluster named ${input.name}`, 'cluster_exists');
    await recordAudit(this.deps.pool, { actor: principal.user, action: 'cluster.register', subjectType: 'cluster', subjectId: id, clusterServer: kubeconfig.server, result: 'created', detail: { name: input.name } });
    return cluster;
  }

  async list(principal: Principal, isAdmin: boolean, filter: { status?: Cluster['status'] } = {}): Promise<Cluster[]> {
    return store.listClusters(this.deps.pool, { ...(isAdmin ? {} : { owner: principal.user }), ...filter });
  }

  /** Only the owner or an admin may see a cluster; others get 404, not a hint that it exists. */
  async get(principal: Principal, id: string, isAdmin: boolean): Promise<Cluster> {
    const cluster = await store.getCluster(this.deps.pool, id);
    if (!cluster || !(isAdmin || cluster.owner === principal.user)) throw new NotFoundError(`Cluster ${id} not found`, 'cluster_not_found');
    return cluster;
  }

  /** Forgets the cluster (its packages records too); a bootstrapped cluster keeps running. */
  async remove(principal: Principal, id: string, isAdmin: boolean): Promise<void> {
    const cluster = await this.get(principal, id, isAdmin);
    const busy = await store.clusterBusyJob(this.deps.pool, id);
    if (busy !== undefined) throw new ConflictError(`Cluster ${cluster.name} has job ${busy} in progress; wait for it or cancel it`, 'cluster_busy', { jobId: busy });
    await store.deleteCluster(this.deps.pool, id);
    await recordAudit(this.deps.pool, { actor: principal.user, action: 'cluster.delete', subjectType: 'cluster', subjectId: id, clusterServer: cluster.server, result: 'deleted', detail: { name: cluster.name } });
  }

  /** The kube config of a ready cluster the caller may use (for deploys). */
  async kubeconfigFor(principal: Principal, id: string, isAdmin: boolean): Promise<{ cluster: Cluster; kubeconfig: SafeKubeconfig }> {
    const cluster = await this.get(principal, id, isAdmin);
    if (cluster.status !== 'ready') throw new ClusterNotReadyError(cluster);
    const kubeconfig = await openClusterKubeconfig(this.deps, id);
    if (!kubeconfig) throw new ClusterNotReadyError(cluster);
    return { cluster, kubeconfig };
  }
}
