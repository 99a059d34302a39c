import type { Config } from '../../config.js';
import type { Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import { ironicProvisionerFactory } from '../../services/provisioning/ironic-provisioner.js';
import type { BmcCredentials, HostImage } from '../../domain/baremetal/host.js';
import type { BareMetalProvisioner, PowerAction } from '../../domain/baremetal/provisioner.js';
import type { HostState, HostStatus } from '../../domain/baremetal/states.js';
import { deprovisionHosts, powerHosts, provisionHosts, type BatchOutcome } from '../../services/provisioning/engine.js';
import { credentialsContext } from '../../services/sites/service.js';
import { provisionerHost } from '../../services/sites/provisioner-host.js';
import { DatabaseSlots } from '../../services/provisioning/database-slots.js';
import { getSealedCredentials, listHosts, setHostStatus, setNodeId } from '../../services/sites/store.js';
import { AppError } from '../../errors.js';
import type { JobContext, JobHandler, JobOutcome } from '../runner.js';

export interface BareMetalDeps {
  config: Config;
  pool: Pool;
  secretBox: SecretBox;
  /** Default: the one IRONIC_URL names; tests may give another. */
  provisioner?: () => BareMetalProvisioner;
  /** After a provisioning job: what follows for the newly provisioned hosts (joining their cluster); one line per action. */
  afterProvision?: (site: string, hosts: string[]) => Promise<string[]>;
}

const JOB_STATUS: Record<BatchOutcome, JobOutcome['status']> = { succeeded: 'succeeded', partially_failed: 'partially_failed', failed: 'failed' };

interface JobInput {
  site: string;
  hosts: string[];
  timeoutMs: number;
  image?: HostImage;
  action?: PowerAction;
  remove?: boolean;
  /** Take over unmarked Ironic nodes found by name or boot MAC (never another host's). */
  adopt?: boolean;
}

function provisionerOf(deps: BareMetalDeps): BareMetalProvisioner {
  const factory = deps.provisioner ?? ironicProvisionerFactory(deps.config);
  if (!factory) throw new AppError('ironic_not_configured', 503, 'IRONIC_URL is not set');
  return factory();
}

/**
 * The bare-metal jobs (provision, deprovision, power): all requested hosts in parallel under the
 * Ironic concurrency cap, each host's state stored as it changes and told as an event. The BMC
 * credentials are opened here, in the job, and handed to the provisioner's register step only.
 * One host's failure never stops its siblings: the job ends `partially_failed` with each reason.
 */
export function bareMetalHandler(kind: 'provision' | 'deprovision' | 'power', deps: BareMetalDeps): JobHandler {
  return {
    async run(ctx) {
      const input = ctx.job.input as unknown as JobInput;
      const hosts = await listHosts(deps.pool, input.site, input.hosts);
      const provisioner = provisionerOf(deps);
      // The cap is per Ironic, across every job and replica: the slots live in the database.
      const slots = new DatabaseSlots(deps.pool, deps.config.ironicUrl ?? 'ironic', deps.config.ironicConcurrency, {
        pollMs: Math.min(1000, deps.config.ironicPollMs.quick),
        onError: (error) => ctx.log.warn({ err: error }, 'provisioning slot update failed'),
      });
      ctx.signal.addEventListener('abort', () => void slots.close(), { once: true });
      const options = {
        concurrency: deps.config.ironicConcurrency,
        slots,
        timeoutMs: input.timeoutMs,
        signal: ctx.signal,
        onHostChange: (name: string, status: HostStatus) => recordHost(ctx, deps, input.site, name, status),
      };
      const step = `${kind} hosts`;
      if (kind === 'power') {
        const action = input.action ?? 'on';
        const result = await ctx.step(step, () =>
          powerHosts(provisioner, hosts.map((h) => provisionerHost(h)), action, {
            ...options,
            pollMs: deps.config.ironicPollMs.quick,
            onHostResult: async (r) => {
              if (r.outcome === 'done') await setHostStatus(deps.pool, input.site, r.name, { state: hostState(hosts, r.name), poweredOn: r.poweredOn });
              await ctx.event('host', r.outcome === 'done' ? `${r.name}: power ${r.poweredOn ? 'on' : 'off'}` : `${r.name}: ${r.error.type}: ${r.error.message}`, r);
            },
          }), (r) => `${r.hosts.filter((h) => h.outcome === 'done').length} of ${r.hosts.length} hosts done`);
        return outcomeOf(result.outcome, result.hosts.map((h) => (h.outcome === 'done' ? { name: h.name, state: 'done' } : { name: h.name, state: 'error', error: h.error })));
      }
      const result = await ctx.step(step, async () => {
        if (kind === 'deprovision') return deprovisionHosts(provisioner, hosts.map((h) => provisionerHost(h)), { ...options, remove: input.remove === true });
        const requests = await Promise.all(
          hosts.map(async (host) => ({
            host: { ...provisionerHost(host, { adopt: input.adopt === true }), ...(input.image ? { image: input.image } : {}) },
            credentials: await openCredentials(deps, input.site, host.name),
            configDrive: host.configDrive,
          })),
        );
        return provisionHosts(provisioner, requests, options);
      }, (r) => `${r.hosts.filter((h) => h.status.state !== 'error').length} of ${r.hosts.length} hosts ${kind === 'provision' ? 'provisioned' : 'deprovisioned'}`);
      for (const host of result.hosts) await setNodeId(deps.pool, input.site, host.name, host.nodeId ?? null);
      if (kind === 'provision') await followUp(ctx, deps, input.site, result.hosts.filter((h) => h.status.state === 'provisioned').map((h) => h.name));
      return outcomeOf(result.outcome, result.hosts.map((h) => ({ name: h.name, ...h.status })));
    },
  };
}

/** Newly provisioned hosts may join a cluster; a problem there is told, never fails the provisioning. */
async function followUp(ctx: JobContext, deps: BareMetalDeps, site: string, provisioned: string[]): Promise<void> {
  if (!deps.afterProvision || provisioned.length === 0) return;
  try {
    for (const note of await deps.afterProvision(site, provisioned)) await ctx.event('follow-up', note);
  } catch (error: unknown) {
    ctx.log.warn({ err: error }, 'follow-up after provisioning failed');
    await ctx.event('follow-up', `Starting what follows the provisioning failed: ${error instanceof AppError ? error.message : 'see the service log'}`);
  }
}

function hostState(hosts: ReadonlyArray<{ name: string; state: HostState }>, name: string): HostState {
  return hosts.find((h) => h.name === name)?.state ?? 'enrolled';
}

async function openCredentials(deps: BareMetalDeps, site: string, host: string): Promise<BmcCredentials> {
  const sealed = await getSealedCredentials(deps.pool, site, host);
  if (!sealed) throw new AppError('host_not_found', 404, `Host ${host} is gone from site ${site}`);
  return JSON.parse(deps.secretBox.open(sealed, credentialsContext(site, host))) as BmcCredentials;
}

async function recordHost(ctx: JobContext, deps: BareMetalDeps, site: string, name: string, status: HostStatus): Promise<void> {
  await setHostStatus(deps.pool, site, name, {
    state: status.state,
    errorType: status.state === 'error' ? status.error.type : null,
    errorMessage: status.state === 'error' ? status.error.message : null,
  });
  const text = status.state === 'error' ? `${name}: ${status.error.type}: ${status.error.message}` : `${name}: ${status.state}`;
  await ctx.event('host', text, { host: name, ...status });
}

function outcomeOf(outcome: BatchOutcome, hosts: unknown[]): JobOutcome {
  const failed = (hosts as Array<{ name: string; state: string; error?: { type: string; message: string } }>).filter((h) => h.state === 'error');
  const reasons = failed.map((h) => `${h.name}: ${h.error?.type ?? 'error'}: ${h.error?.message ?? ''}`).join('; ');
  return {
    status: JOB_STATUS[outcome],
    result: { hosts },
    ...(outcome === 'succeeded' ? {} : { error: { code: 'hosts_failed', message: `${failed.length} of ${hosts.length} hosts failed: ${reasons}`, details: { hosts: failed } } }),
  };
}
