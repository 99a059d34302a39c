/**
 * Keeps Slipway's view of hosts honest: compares each host with its Ironic node — on every read of
 * a site's hosts and periodically while hosts have nodes — and records a difference on the host
 * (`observed`, with the reason and since when) and as an event of the site. The recorded state
 * is never rewritten from it: a job does that, from what Ironic says when it runs.
 */
import type { Logger } from 'pino';
import type { Pool } from '../../adapters/db/pool.js';
import { mapBounded } from '../../adapters/map-bounded.js';
import { startPeriodic } from '../../jobs/periodic.js';
import { differenceFromNode } from '../../domain/baremetal/observe.js';
import type { BareMetalProvisioner } from '../../domain/baremetal/provisioner.js';
import type { Host, HostObservedState } from './model.js';
import { provisionerHost } from './provisioner-host.js';
import { appendSiteEvent, hostsInJobs, listHosts, setObserved, sitesWithNodes } from './store.js';

/** Ironic reads at once per reconciliation. */
const CONCURRENCY = 8;
/** Advisory lock key: one replica reconciles at a time. */
const RECONCILE_LOCK = 0x5_11b_7a1;

export interface ReconcilerDeps {
  pool: Pool;
  provisioner: () => BareMetalProvisioner;
  log: Logger;
  now?: () => Date;
}

export class HostReconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /**
   * Compares the site's hosts (all, or `names`) with their nodes, skipping hosts a job holds;
   * returns the hosts as stored afterwards. A host whose node cannot be read keeps what it had.
   */
  async reconcileSite(site: string, names?: readonly string[]): Promise<Host[]> {
    const hosts = await listHosts(this.deps.pool, site, names);
    const busy = await hostsInJobs(this.deps.pool, site);
    const provisioner = this.deps.provisioner();
    let changed = false;
    await mapBounded(hosts.filter((host) => !busy.has(host.name)), CONCURRENCY, async (host) => {
      try {
        changed = (await this.reconcileHost(provisioner, host)) || changed;
      } catch (error: unknown) {
        this.deps.log.warn({ err: error, site, host: host.name }, 'could not compare the host with its Ironic node');
      }
    });
    return changed ? listHosts(this.deps.pool, site, names) : hosts;
  }

  /** Every site with nodes, once. */
  async reconcileAll(): Promise<void> {
    for (const site of await sitesWithNodes(this.deps.pool)) await this.reconcileSite(site);
  }

  /**
   * Every `intervalMs`, on one replica at a time (an advisory lock), reconciles every site. Stops
   * with the returned function.
   */
  startPeriodic(intervalMs: number): () => void {
    return startPeriodic(this.deps.pool, this.deps.log, { name: 'host reconciliation', lockKey: RECONCILE_LOCK, intervalMs, run: () => this.reconcileAll() });
  }

  private async reconcileHost(provisioner: BareMetalProvisioner, host: Host): Promise<boolean> {
    const seen = await provisioner.status(provisionerHost(host));
    const difference = differenceFromNode(host, seen);
    const observed: HostObservedState | null = difference === null ? null : { ...difference, seenAt: (this.deps.now?.() ?? new Date()).toISOString() };
    if (!(await setObserved(this.deps.pool, host.site, host.name, observed))) return false;
    await appendSiteEvent(this.deps.pool, {
      site: host.site,
      host: host.name,
      type: observed ? 'host.differs' : 'host.agrees',
      message: observed ? `${host.name}: ${observed.reason}` : `${host.name}: Ironic agrees again with ${host.state}`,
      data: observed ?? { state: host.state },
    });
    return true;
  }
}
