/**
 * Keeps watching what a deployment applied once it has succeeded, until it is undeployed or a
 * later deploy takes its namespace: its health (domain/health/live.ts) and whether the cluster
 * still holds what Slipway applied (sync). A change is stored on the deployment, appended to its
 * event stream (the deploy job's events) and, when the deployment has a callback, sent there.
 *
 * One watcher per live deployment (one cluster and namespace) across all replicas: a replica
 * watches a deployment only while it holds that deployment's session-level advisory lock on a
 * connection of its own. When the replica dies, PostgreSQL drops its session and its locks, and
 * the next scan of another replica takes the deployment over.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Config } from '../../config.js';
import type { Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import type { NamespaceWatch } from '../../adapters/kubernetes/namespace-watch.js';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';
import type { SolutionSource } from '../../domain/solution.js';
import { liveHealth, liveSync, type LiveHealth, type LiveSync } from '../../domain/health/live.js';
import type { JobQueue } from '../../jobs/queue.js';
import { appendEvent } from '../../jobs/store.js';
import { renderForConfig } from '../manifests.js';
import { openDeploymentKubeconfig } from './service.js';
import { getDeployment, liveDeploymentIds, revisionLabelId, setLiveState } from './store.js';

export interface LiveMonitorDeps {
  config: Config;
  pool: Pool;
  queue: JobQueue;
  secretBox: SecretBox;
  solutionSource: SolutionSource;
  connectCluster: (kubeconfig: SafeKubeconfig) => ClusterClient;
  log: Logger;
}

export interface LiveMonitorOptions {
  /** How often live deployments are looked for (and dead replicas' ones taken over). */
  scanMs: number;
  /** A watched deployment is checked again at least this often, changes or not. */
  recheckMs: number;
}

/** First key of the two-key advisory locks: one namespace of locks for live watchers. */
const LOCK_SPACE = 0x5_11b_7a3;
/** Events come in bursts (a rollout, a namespace deleted): one check after the burst. */
const SETTLE_MS = 150;

export class LiveMonitor {
  private session: pg.PoolClient | undefined;
  private readonly watchers = new Map<string, LiveWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;
  private stopped = false;

  constructor(private readonly deps: LiveMonitorDeps, private readonly options: LiveMonitorOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.scan(), this.options.scanMs);
    this.timer.unref();
    void this.scan();
  }

  /** The deployments this replica watches now (tests, metrics). */
  watching(): string[] {
    return [...this.watchers.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const watcher of this.watchers.values()) watcher.stop();
    this.watchers.clear();
    const session = this.session;
    this.session = undefined;
    // Releasing the session (and so every lock it holds) hands the deployments over.
    session?.release(true);
  }

  /** One round: take up live deployments nobody watches, drop those no longer live. */
  async scan(): Promise<void> {
    if (this.scanning || this.stopped) return;
    this.scanning = true;
    try {
      const session = await this.sessionClient();
      const live = new Set(await liveDeploymentIds(this.deps.pool));
      for (const [id, watcher] of this.watchers) {
        if (live.has(id)) continue;
        watcher.stop();
        this.watchers.delete(id);
        await session.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_SPACE, id]);
      }
      for (const id of live) {
        if (this.watchers.has(id) || this.stopped) continue;
        const { rows } = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [LOCK_SPACE, id]);
        if (!rows[0]?.locked) continue;
        const watcher = new LiveWatcher(this.deps, id, this.options.recheckMs);
        this.watchers.set(id, watcher);
        watcher.start();
      }
    } catch (error: unknown) {
      // The database went away: the locks went with the session; start over on the next scan.
      this.deps.log.warn({ err: error }, 'live deployment scan failed');
      for (const watcher of this.watchers.values()) watcher.stop();
      this.watchers.clear();
      this.session?.release(true);
      this.session = undefined;
    } finally {
      this.scanning = false;
    }
  }

  private async sessionClient(): Promise<pg.PoolClient> {
    if (this.session) return this.session;
    const client = await this.deps.pool.connect();
    client.on('error', (error: Error) => this.deps.log.warn({ err: error }, 'live monitor session lost'));
    this.session = client;
    return client;
  }
}

/** Watches one deployment's namespace and checks it on every change (and every `recheckMs`). */
class LiveWatcher {
  private stopped = false;
  private watch: NamespaceWatch | undefined;
  private cluster: ClusterClient | undefined;

  constructor(private readonly deps: LiveMonitorDeps, private readonly id: string, private readonly recheckMs: number) {}

  start(): void {
    void this.run().catch((error: unknown) => this.deps.log.warn({ err: error, deploymentId: this.id }, 'live watcher stopped'));
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    this.cluster?.close();
  }

  private async run(): Promise<void> {
    const deployment = await getDeployment(this.deps.pool, this.id);
    const kubeconfig = await openDeploymentKubeconfig(this.deps, this.id);
    if (!deployment || !kubeconfig || this.stopped) return;
    const solution = await this.deps.solutionSource.getSolution(deployment.solutionId, deployment.revisionId);
    const rendered = renderForConfig(solution, this.deps.config, deployment.namespace, await revisionLabelId(this.deps.pool, this.id));
    this.cluster = this.deps.connectCluster(kubeconfig);
    this.watch = this.cluster.watchNamespace(deployment.namespace);
    let last = deployment.health && deployment.sync ? key(deployment.health, deployment.sync) : '';
    while (!this.stopped) {
      try {
        const state = await this.cluster.readState(deployment.namespace);
        const now = new Date().toISOString();
        const health = liveHealth(rendered, state, now);
        const sync = liveSync(rendered, state, now);
        const current = key(health, sync);
        if (this.stopped) return;
        if (current !== last) {
          const first = last === '';
          last = current;
          await this.report(deployment.jobId, health, sync, first);
        } else {
          await setLiveState(this.deps.pool, this.id, { health, sync });
        }
      } catch (error: unknown) {
        this.deps.log.warn({ err: error, deploymentId: this.id }, 'could not check the live deployment');
      }
      if ((await this.watch.next(this.recheckMs)) === 'changed') await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
  }

  private async report(jobId: string | null, health: LiveHealth, sync: LiveSync, first: boolean): Promise<void> {
    await setLiveState(this.deps.pool, this.id, { health, sync });
    if (jobId) {
      await appendEvent(this.deps.pool, jobId, 'health', `${health.status}: ${health.reason}`, health);
      const drift = sync.differences.map((d) => `${d.kind}/${d.name} ${d.change}${d.fields.length > 0 ? ` (${d.fields.join(', ')})` : ''}`).join('; ');
      await appendEvent(this.deps.pool, jobId, 'sync', `${sync.status}${drift ? `: ${drift}` : ''}`, sync);
    }
    // The first check after success only confirms it; a change after that is news.
    if (first && health.status === 'healthy' && sync.status === 'synced') return;
    const deployment = await getDeployment(this.deps.pool, this.id);
    if (deployment?.callbackUrl) await this.deps.queue.enqueueTask(this.deps.pool, 'notify', { deploymentId: this.id, event: 'deployment.health' });
  }
}

/** What counts as a change: the statuses, per-object states and differences, not the time. */
function key(health: LiveHealth, sync: LiveSync): string {
  return JSON.stringify([health.status, health.objects, sync.status, sync.differences]);
}
