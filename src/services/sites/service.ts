import type { Config } from '../../config.js';
import { inTransaction, type Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import { hostSpecProblems, validateHostSpec, type BmcCredentials, type HostImage } from '../../domain/baremetal/host.js';
import { operationAllowed, type HostOperation } from '../../domain/baremetal/states.js';
import type { PowerAction } from '../../domain/baremetal/provisioner.js';
import type { HostReconciler } from './reconcile.js';
import type { Principal } from '../../http/auth/jwt.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { JobKind, JobRecord } from '../../jobs/model.js';
import { insertJob } from '../../jobs/store.js';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import type { Host, HostLocation, Site } from './model.js';
import * as store from './store.js';

const SITE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export class IronicNotConfiguredError extends AppError {
  constructor() {
    super('ironic_not_configured', 503, 'This service has no IRONIC_URL: bare-metal jobs cannot run');
  }
}

/** How long a read waits for the comparison with Ironic. */
const READ_RECONCILE_MS = 3000;

/** The context a host's sealed BMC credentials are bound to. */
export function credentialsContext(site: string, host: string): string {
  return `host:${site}/${host}:bmc`;
}

export interface HostInput {
  name: string;
  role: string;
  bmc: { address: string; username: string; password?: string; disableCertificateVerification?: boolean };
  bootMacAddress: string;
  image: HostImage;
  rootDeviceHints?: Record<string, unknown>;
  hardware?: Record<string, boolean>;
  bootMode?: string;
  location?: HostLocation;
  userData?: string;
  networkData?: Record<string, unknown>;
  metaData?: Record<string, unknown>;
  labels?: Record<string, string>;
}

export interface BareMetalJobInput {
  hosts?: string[];
  image?: HostImage;
  timeoutMinutes?: number;
  action?: PowerAction;
  remove?: boolean;
  adopt?: boolean;
}

const OPERATION_OF: Record<'provision' | 'deprovision' | 'power', HostOperation> = { provision: 'provision', deprovision: 'deprovision', power: 'power' };

/**
 * Sites and their hosts (the inventory) and the bare-metal jobs run on them. A site belongs to
 * whoever created it; its owner and admins may change it and run jobs on it.
 */
export class SiteService {
  constructor(private readonly deps: { config: Config; pool: Pool; queue: JobQueue; secretBox: SecretBox; reconciler?: HostReconciler }) {}

  async createSite(principal: Principal, input: { name: string; description?: string }): Promise<Site> {
    if (input.name.length > 63 || !SITE_NAME.test(input.name)) {
      throw new ValidationError(`name: "${input.name}" must be lower-case letters, digits and '-', at most 63`, ['name: not a DNS label']);
    }
    const site = await store.insertSite(this.deps.pool, { name: input.name, description: input.description ?? '', owner: principal.user });
    if (!site) throw new ConflictError(`Site ${input.name} already exists`, 'site_exists');
    await recordAudit(this.deps.pool, { actor: principal.user, action: 'site.create', subjectType: 'site', subjectId: site.name, result: 'created' });
    return site;
  }

  async listSites(principal: Principal, isAdmin: boolean): Promise<Site[]> {
    return (await store.listSites(this.deps.pool)).filter((site) => isAdmin || site.owner === principal.user);
  }

  async site(principal: Principal, name: string, isAdmin: boolean): Promise<Site> {
    const site = await store.getSite(this.deps.pool, name);
    if (!site || !(isAdmin || site.owner === principal.user)) throw new NotFoundError(`Site ${name} not found`, 'site_not_found');
    return site;
  }

  async deleteSite(principal: Principal, name: string, isAdmin: boolean): Promise<void> {
    await this.site(principal, name, isAdmin);
    const hosts = await store.listHosts(this.deps.pool, name);
    if (hosts.length > 0) throw new ConflictError(`Site ${name} still has ${hosts.length} hosts; delete them first`, 'site_not_empty');
    await store.deleteSite(this.deps.pool, name);
    await recordAudit(this.deps.pool, { actor: principal.user, action: 'site.delete', subjectType: 'site', subjectId: name, result: 'deleted' });
  }

  /** The site's hosts, each compared with its Ironic node first (see HostReconciler). */
  async hosts(principal: Principal, site: string, isAdmin: boolean): Promise<Host[]> {
    await this.site(principal, site, isAdmin);
    return this.reconciled(site);
  }

  /** The site's events outside its jobs (a host's node found to differ, and agreeing again). */
  async events(principal: Principal, site: string, isAdmin: boolean, limit = 100): Promise<store.SiteEvent[]> {
    await this.site(principal, site, isAdmin);
    return store.listSiteEvents(this.deps.pool, site, limit);
  }

  /**
   * Reads compare with Ironic, bounded in time: a slow or unreachable Ironic leaves what was
   * recorded (the comparison finishes in the background and shows on the next read).
   */
  private async reconciled(site: string, names?: readonly string[]): Promise<Host[]> {
    const reconciler = this.deps.reconciler;
    if (!reconciler) return store.listHosts(this.deps.pool, site, names);
    const compared = reconciler.reconcileSite(site, names);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), READ_RECONCILE_MS);
    });
    try {
      return (await Promise.race([compared.catch(() => undefined), late])) ?? (await store.listHosts(this.deps.pool, site, names));
    } finally {
      clearTimeout(timer);
    }
  }

  async host(principal: Principal, site: string, name: string, isAdmin: boolean): Promise<Host> {
    await this.site(principal, site, isAdmin);
    const host = (await this.reconciled(site, [name]))[0];
    if (!host) throw new NotFoundError(`Host ${name} not found in site ${site}`, 'host_not_found');
    return host;
  }

  /** Add a host, or replace one (`replace`): its credentials are kept when no password is given. */
  async putHost(principal: Principal, site: string, input: HostInput, isAdmin: boolean, replace: boolean): Promise<Host> {
    await this.site(principal, site, isAdmin);
    const existing = replace ? await store.getHost(this.deps.pool, site, input.name) : undefined;
    if (replace && !existing) throw new NotFoundError(`Host ${input.name} not found in site ${site}`, 'host_not_found');
    if (existing && existing.state !== 'enrolled' && existing.state !== 'available' && existing.state !== 'error' && existing.state !== 'provisioned') {
      throw new ConflictError(`Host ${input.name} is ${existing.state}; change it when no job is working on it`, 'host_busy');
    }
    const { name, role, bmc, bootMacAddress, image, rootDeviceHints, hardware, bootMode } = input;
    const specInput = { name, role, bmc: { address: bmc.address, ...(bmc.disableCertificateVerification !== undefined ? { disableCertificateVerification: bmc.disableCertificateVerification } : {}) }, bootMacAddress, image, ...(rootDeviceHints ? { rootDeviceHints } : {}), ...(hardware ? { hardware } : {}), ...(bootMode ? { bootMode } : {}) };
    const problems = hostSpecProblems(specInput);
    if (!replace && (bmc.password === undefined || bmc.password === '')) problems.push('bmc.password is required');
    if (bmc.username.trim() === '') problems.push('bmc.username must not be empty');
    if (problems.length > 0) throw new ValidationError(`The host is invalid: ${problems.join('; ')}`, problems);
    const spec = validateHostSpec(specInput);
    const credentials: BmcCredentials = { username: bmc.username, password: bmc.password ?? '' };
    const write = {
      site,
      spec,
      sealedCredentials: this.deps.secretBox.seal(JSON.stringify(credentials), credentialsContext(site, name)),
      location: input.location ?? {},
      configDrive: { ...(input.userData ? { userData: input.userData } : {}), ...(input.networkData ? { networkData: input.networkData } : {}), ...(input.metaData ? { metaData: input.metaData } : {}) },
      labels: input.labels ?? {},
    };
    try {
      const host = replace
        ? await store.replaceHost(this.deps.pool, { ...write, keepCredentials: bmc.password === undefined || bmc.password === '' })
        : await store.insertHost(this.deps.pool, write);
      if (!host) throw new NotFoundError(`Host ${name} not found in site ${site}`, 'host_not_found');
      await recordAudit(this.deps.pool, { actor: principal.user, action: replace ? 'host.update' : 'host.create', subjectType: 'host', subjectId: `${site}/${name}`, result: 'ok' });
      return host;
    } catch (error: unknown) {
      throw duplicateError(error, name) ?? error;
    }
  }

  async deleteHost(principal: Principal, site: string, name: string, isAdmin: boolean): Promise<void> {
    const host = await this.host(principal, site, name, isAdmin);
    if (host.nodeId !== null && host.state !== 'enrolled') {
      throw new ConflictError(`Host ${name} is known to Ironic (${host.state}); run a deprovisioning job with "remove": true first`, 'host_registered');
    }
    await store.deleteHost(this.deps.pool, site, name);
    await recordAudit(this.deps.pool, { actor: principal.user, action: 'host.delete', subjectType: 'host', subjectId: `${site}/${name}`, result: 'deleted' });
  }

  /** Start a provisioning, deprovisioning or power job on some or all of a site's hosts. */
  async startJob(principal: Principal, site: string, kind: Extract<JobKind, 'provision' | 'deprovision' | 'power'>, input: BareMetalJobInput, isAdmin: boolean, options: { parentId?: string } = {}): Promise<JobRecord> {
    if (!this.deps.config.ironicUrl) throw new IronicNotConfiguredError();
    await this.site(principal, site, isAdmin);
    const all = await store.listHosts(this.deps.pool, site);
    const names = input.hosts ?? all.map((host) => host.name);
    const problems: string[] = [];
    if (names.length === 0) problems.push('hosts: the site has no hosts');
    for (const name of names) {
      const host = all.find((h) => h.name === name);
      if (!host) problems.push(`hosts: ${name} is not a host of site ${site}`);
      else {
        const allowed = operationAllowed(host.state, OPERATION_OF[kind]);
        if (!allowed.ok) problems.push(`hosts: ${name}: ${allowed.reason}`);
      }
    }
    if (input.image) problems.push(...hostSpecProblems({ ...all[0]?.spec, image: input.image }).filter((p) => p.startsWith('image')));
    if (problems.length > 0) throw new ValidationError(`The ${kind} job cannot start: ${problems.join('; ')}`, problems);
    const timeoutMs = (input.timeoutMinutes ?? this.deps.config.provisionTimeoutMs / 60_000) * 60_000;
    const job = await inTransaction(this.deps.pool, async (tx) => {
      const busy = await store.busyHosts(tx, site, names);
      if (busy.length > 0) {
        throw new ConflictError(`Hosts ${busy.map((b) => b.name).join(', ')} are in job ${busy[0]?.jobId ?? ''}; wait for it or cancel it`, 'hosts_busy', { jobId: busy[0]?.jobId ?? null });
      }
      const created = await insertJob(tx, {
        kind,
        subjectType: 'site',
        subjectId: site,
        owner: principal.user,
        input: { site, hosts: names, timeoutMs, ...(input.image ? { image: input.image } : {}), ...(input.action ? { action: input.action } : {}), ...(input.remove ? { remove: true } : {}), ...(input.adopt ? { adopt: true } : {}) },
        steps: [`${kind} hosts`],
        ...(options.parentId ? { parentId: options.parentId } : {}),
      });
      await store.assignJob(tx, site, names, created.id);
      await this.deps.queue.enqueue(tx, kind, created.id, { expireInSeconds: Math.ceil(timeoutMs / 1000) + 600 });
      await recordAudit(tx, { actor: principal.user, action: kind, subjectType: 'site', subjectId: site, result: 'accepted', detail: { hosts: names, jobId: created.id } });
      return created;
    });
    this.deps.queue.wake(kind);
    return job;
  }
}

function duplicateError(error: unknown, name: string): ConflictError | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || error.code !== '23505') return undefined;
  const constraint = 'constraint' in error ? String(error.constraint) : '';
  if (constraint === 'hosts_pkey') return new ConflictError(`Host ${name} already exists in this site`, 'host_exists');
  if (constraint === 'hosts_boot_mac_idx') return new ConflictError('bootMacAddress: another host already boots from this MAC', 'host_duplicate_mac');
  if (constraint === 'hosts_bmc_address_idx') return new ConflictError('bmc.address: another host already uses this BMC', 'host_duplicate_bmc');
  return undefined;
}
