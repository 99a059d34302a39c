/**
 * The `kud-job` engine: the KUD installer (Kubespray + add-ons) as one Job on the bootstrap
 * cluster, the way ICN's BPA ran it — but followed: the Job's state and its log tail become job
 * events, a failure says why (hosts unreachable, a failed task, with the log's last lines), and
 * the new cluster's kube config is read back from the Secret the installer writes
 * (`<cluster>-admin-conf`, key `admin.conf`) and sanitised.
 *
 * Safe to run twice: the Job's name derives from the bootstrap job id, so a retried job applies
 * the same objects (no change) and follows the Job already running or finished.
 */
import { FIELD_MANAGER } from '../../adapters/kubernetes/apply.js';
import { KubernetesRequestError } from '../../adapters/kubernetes/errors.js';
import { BootstrapFailedError } from '../../domain/bootstrap/errors.js';
import type { BootstrapHost } from '../../domain/bootstrap/hosts.js';
import type { InventoryGroupStyle } from '../../domain/bootstrap/inventory.js';
import { renderKudInstaller, renderSshKeySecret, type KudInstaller, type KudInstallerNames } from '../../domain/bootstrap/kud-installer.js';
import { ADMIN_CONF_KEY, installerJobName } from '../../domain/bootstrap/labels.js';
import { assessInstallerJob, diagnoseInstallerLog, newLogLines, redactLogText, splitLogLines, type InstallerState } from '../../domain/bootstrap/progress.js';
import { planBootstrap, type BootstrapPlan, type BootstrapRequest } from '../../domain/bootstrap/request.js';
import type { KubeconfigOptions, SafeKubeconfig } from '../../domain/kubeconfig.js';
import {
  kubeconfigTextOf,
  duration,
  parseNewClusterKubeconfig,
  pollInterval,
  readWhilePolling,
  secretKeys,
  waitForNextPoll,
  type BootstrapCluster,
  type BootstrapReporter,
  type PollSettings,
} from './shared.js';

export interface KudBootstrapSettings extends PollSettings {
  /** The bootstrap job's id: names the installer Job and labels everything applied. */
  jobId: string;
  /** Namespace of the bootstrap cluster the installer runs in (must exist). */
  namespace: string;
  /** The KUD installer image. */
  image: string;
  groupStyle?: InventoryGroupStyle;
  /** Scale-out of an existing cluster: only these new workers are installed. */
  scaleOut?: string[];
  /** The installer's SSH private key; applied as a Secret mounted into the Job, never logged. */
  sshPrivateKey?: string;
  /** How the new cluster's kube config is checked (insecure servers allowed or not). */
  kubeconfig: KubeconfigOptions;
  /** Log lines read per poll (default 50) and kept in a failure (default 100). */
  logTailLines?: number;
}

export interface KudBootstrapResult {
  plan: BootstrapPlan;
  kubeconfig: SafeKubeconfig;
  installerJob: string;
}

const FAILURE_TAIL_LINES = 100;
const TAIL_IN_MESSAGE = 20;
const MAX_EVENT_LINES = 50;

export async function runKudBootstrap(
  cluster: BootstrapCluster,
  request: BootstrapRequest,
  hosts: readonly BootstrapHost[],
  reporter: BootstrapReporter,
  settings: KudBootstrapSettings,
): Promise<KudBootstrapResult> {
  // Planning and rendering in one step: a bad request or scale-out fails here, before anything is applied.
  const { plan, installer } = await reporter.step('plan cluster', async () => {
    const planned = planBootstrap(request, hosts);
    const rendered = renderKudInstaller(planned, hosts, {
      namespace: settings.namespace,
      image: settings.image,
      jobId: settings.jobId,
      ...(settings.groupStyle !== undefined ? { groupStyle: settings.groupStyle } : {}),
      ...(settings.scaleOut !== undefined ? { scaleOut: settings.scaleOut } : {}),
      ...(settings.sshPrivateKey !== undefined ? { sshKeySecretName: sshSecretName(planned, settings) } : {}),
    });
    await reporter.event('bootstrap.plan', planned.notes.join('\n'), { controlPlane: planned.split.controlPlane, workers: planned.split.workers, addons: planned.addons, scaleOut: settings.scaleOut ?? [] });
    return { plan: planned, installer: rendered };
  }, ({ plan: p }) => `control plane ${p.split.controlPlane.join(', ')}; workers ${p.split.workers.join(', ') || 'none'}`);
  await reporter.step('apply installer', () => applyInstaller(cluster, plan, installer, settings, reporter.signal), () => `Job ${settings.namespace}/${installer.names.job}`);
  await reporter.step('run installer', () => followInstaller(cluster, installer.names, settings, reporter), () => `Job ${installer.names.job} completed`);
  const kubeconfig = await reporter.step('read kube config', () => readAdminConf(cluster, installer.names, settings), (k) => `API server ${k.server}`);
  return { plan, kubeconfig, installerJob: installer.names.job };
}

async function applyInstaller(cluster: BootstrapCluster, plan: BootstrapPlan, installer: KudInstaller, settings: KudBootstrapSettings, signal: AbortSignal): Promise<void> {
  const [first = [], ...rest] = installer.waves;
  const sshSecret = settings.sshPrivateKey !== undefined ? [renderSshKeySecret(plan, settings, sshSecretName(plan, settings), settings.sshPrivateKey)] : [];
  await cluster.applyWaves([[...sshSecret, ...first], ...rest], { fieldManager: FIELD_MANAGER, concurrency: 4, signal });
}

function sshSecretName(plan: Pick<BootstrapPlan, 'name'>, settings: Pick<KudBootstrapSettings, 'jobId'>): string {
  return `${installerJobName(plan.name, settings.jobId)}-ssh`;
}

/** Polls the Job (≤ 2 s) until it completed, failed, vanished or the deadline passed. */
async function followInstaller(cluster: BootstrapCluster, names: KudInstallerNames, settings: KudBootstrapSettings, reporter: BootstrapReporter): Promise<void> {
  const deadline = Date.now() + settings.timeoutMs;
  const pollMs = pollInterval(settings);
  const jobRef = { apiVersion: 'batch/v1', kind: 'Job', namespace: settings.namespace, name: names.job };
  let lastState: InstallerState['state'] | undefined;
  let seen: string[] = [];
  for (;;) {
    reporter.signal.throwIfAborted();
    const read = await readWhilePolling(cluster, jobRef);
    if (read.kind === 'absent') {
      throw new BootstrapFailedError('installer_missing', `The installer Job ${settings.namespace}/${names.job} disappeared before it finished (deleted by someone, or by its TTL); start the bootstrap again`);
    }
    if (read.kind === 'found') {
      const state = assessInstallerJob(read.object);
      if (state.state !== lastState) {
        lastState = state.state;
        await reporter.event('bootstrap.installer', `installer Job ${names.job}: ${state.state}${state.state === 'failed' ? ` (${state.reason}: ${state.message})` : ''}`, state);
      }
      if (state.state !== 'pending') seen = await reportNewLogLines(cluster, names, settings, reporter, seen);
      if (state.state === 'succeeded') return;
      if (state.state === 'failed') throw await installerFailure(cluster, names, settings, state);
    }
    if (!(await waitForNextPoll(deadline, pollMs, reporter.signal))) {
      const tail = await readTail(cluster, names, settings);
      throw new BootstrapFailedError('timeout', `The installer Job ${names.job} did not finish within ${duration(settings.timeoutMs)}; it may still be running.${tailForMessage(tail)}`, { job: names.job, logTail: tail });
    }
  }
}

/** New log lines since the last poll, as one event; a log not readable yet is skipped. */
async function reportNewLogLines(cluster: BootstrapCluster, names: KudInstallerNames, settings: KudBootstrapSettings, reporter: BootstrapReporter, seen: string[]): Promise<string[]> {
  const current = splitLogLines(await readTail(cluster, names, settings, settings.logTailLines ?? 50));
  const fresh = newLogLines(seen, current);
  if (fresh.length > 0) {
    const shown = fresh.slice(-MAX_EVENT_LINES);
    await reporter.event('bootstrap.log', shown.join('\n'), { lines: shown, skipped: fresh.length - shown.length });
  }
  return current.length > 0 ? current : seen;
}

/** The installer pod's last lines, redacted; empty when they cannot be read (pod not started). */
async function readTail(cluster: BootstrapCluster, names: KudInstallerNames, settings: KudBootstrapSettings, lines = settings.logTailLines ?? FAILURE_TAIL_LINES): Promise<string> {
  try {
    const logs = await cluster.readLogs(settings.namespace, names.podSelector, lines);
    return redactLogText(logs.map((log) => log.text).join(''));
  } catch (error: unknown) {
    if (error instanceof KubernetesRequestError) return '';
    throw error;
  }
}

async function installerFailure(cluster: BootstrapCluster, names: KudInstallerNames, settings: KudBootstrapSettings, state: Extract<InstallerState, { state: 'failed' }>): Promise<BootstrapFailedError> {
  const tail = await readTail(cluster, names, settings, Math.max(settings.logTailLines ?? 0, FAILURE_TAIL_LINES));
  const diagnosis = diagnoseInstallerLog(tail);
  const details = { job: names.job, jobReason: state.reason, ...diagnosis, logTail: tail };
  if (diagnosis.unreachableHosts.length > 0) {
    return new BootstrapFailedError(
      'hosts_unreachable',
      `The installer could not reach ${diagnosis.unreachableHosts.join(', ')} over SSH: check that the host is up, that its address is right and that the installer's SSH key is authorised on it.${tailForMessage(tail)}`,
      details,
    );
  }
  const where = diagnosis.failedHosts.length > 0 ? ` on ${diagnosis.failedHosts.join(', ')}` : '';
  return new BootstrapFailedError('installer_failed', `The installer Job ${names.job} failed${where} (${state.reason}: ${state.message}).${tailForMessage(tail)}`, details);
}

function tailForMessage(tail: string): string {
  const lines = splitLogLines(tail).slice(-TAIL_IN_MESSAGE);
  return lines.length > 0 ? ` Last lines of its log:\n${lines.join('\n')}` : ' Its log is empty or could not be read.';
}

async function readAdminConf(cluster: BootstrapCluster, names: KudInstallerNames, settings: KudBootstrapSettings): Promise<SafeKubeconfig> {
  const where = { namespace: settings.namespace, name: names.adminConfSecret, key: ADMIN_CONF_KEY };
  const secret = await cluster.readObject({ apiVersion: 'v1', kind: 'Secret', namespace: where.namespace, name: where.name });
  if (secret === undefined) {
    throw new BootstrapFailedError('kubeconfig_missing', `The installer Job ${names.job} completed but wrote no Secret ${where.namespace}/${where.name}: the installer must store the new cluster's admin.conf there (key ${where.key})`, { secret: `${where.namespace}/${where.name}` });
  }
  const text = kubeconfigTextOf(secret, where.key);
  if (text === undefined) {
    throw new BootstrapFailedError('kubeconfig_missing', `Secret ${where.namespace}/${where.name} has no key ${where.key} (keys: ${secretKeys(secret).join(', ') || 'none'})`, { secret: `${where.namespace}/${where.name}` });
  }
  return parseNewClusterKubeconfig(text, where, settings.kubeconfig);
}
