/**
 * Installing packages on a real cluster's node: one Kubernetes Job per node, pinned to it
 * (`nodeName`), privileged with the host's root at /host, tolerating every taint (control-plane
 * nodes get packages too). The installer image's contract: `PACKAGES` lists `name=version`
 * separated by spaces; `PACKAGE_SOURCES` is JSON `[{name, version, url, sha256}]` to download
 * from (Slipway's package download URL) and verify before installing into /host.
 * The Job is followed like the KUD installer: ≤ 2 s polls, a failure carries the log tail.
 */
import type { V1Job } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../../adapters/kubernetes/apply.js';
import { KubernetesRequestError } from '../../adapters/kubernetes/errors.js';
import { assessInstallerJob, redactLogText, splitLogLines } from '../../domain/bootstrap/progress.js';
import { AppError } from '../../errors.js';
import { hashHex } from '../../domain/names.js';
import { pollInterval, readWhilePolling, waitForNextPoll, type BootstrapCluster, type PollSettings } from '../bootstrap/shared.js';
import type { PackageInstaller } from './rollout.js';
import type { PackageVersions } from './rollout-plan.js';

export interface PackageSource {
  url: string;
  sha256: string;
}

export interface PackageJobOptions {
  /** Namespace on the target cluster (must exist). */
  namespace: string;
  image: string;
  /** The rollout job's id: labels the Jobs and names them. */
  jobId: string;
  /** Where each `name@version` is downloaded from. */
  sourceOf: (name: string, version: string) => PackageSource;
  activeDeadlineSeconds?: number;
}

export class PackageInstallFailedError extends AppError {
  constructor(node: string, message: string, logTail: string) {
    // The Job's own reason says only that the Pod failed; the installer's last lines say why.
    const last = logTail.split('\n').filter((line) => line.trim() !== '').slice(-LOG_LINES_IN_MESSAGE);
    super('package_install_failed', 422, `Installing packages on ${node} failed: ${message}${last.length > 0 ? `. Last lines of its log:\n${last.join('\n')}` : ''}`, { node, logTail });
  }
}

const COMPONENT = 'package-installer';
/** Lines of the installer's log tail quoted in the error message (all of it is in `logTail`). */
const LOG_LINES_IN_MESSAGE = 5;

export function packageJobName(jobId: string, node: string): string {
  return `pkg-${node.slice(0, 40).replace(/-+$/, '')}-${hashHex(`${jobId}/${node}`, 8)}`;
}

export function renderPackageInstallJob(node: string, packages: PackageVersions, options: PackageJobOptions): V1Job {
  const labels = {
    'app.kubernetes.io/managed-by': 'slipway',
    'app.kubernetes.io/component': COMPONENT,
    'slipway.io/rollout-job': options.jobId.slice(0, 63),
    'slipway.io/node': node,
  };
  const entries = Object.entries(packages);
  const sources = entries.map(([name, version]) => ({ name, version, ...options.sourceOf(name, version) }));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: packageJobName(options.jobId, node), namespace: options.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: options.activeDeadlineSeconds ?? 1800,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          nodeName: node,
          restartPolicy: 'Never',
          hostPID: true,
          tolerations: [{ operator: 'Exists' }],
          containers: [{
            name: 'install',
            image: options.image,
            imagePullPolicy: 'IfNotPresent',
            securityContext: { privileged: true },
            env: [
              { name: 'PACKAGES', value: entries.map(([name, version]) => `${name}=${version}`).join(' ') },
              { name: 'PACKAGE_SOURCES', value: JSON.stringify(sources) },
              { name: 'HOST_ROOT', value: '/host' },
            ],
            volumeMounts: [{ name: 'host', mountPath: '/host' }],
          }],
          volumes: [{ name: 'host', hostPath: { path: '/', type: 'Directory' } }],
        },
      },
    },
  };
}

/** An installer that runs a Job per node on `cluster` and waits for it. */
export function createJobInstaller(cluster: BootstrapCluster, options: PackageJobOptions & PollSettings): PackageInstaller {
  return async (node, packages, signal = new AbortController().signal) => {
    const job = renderPackageInstallJob(node, packages, options);
    const name = job.metadata?.name ?? '';
    await cluster.applyWaves([[job]], { fieldManager: FIELD_MANAGER, concurrency: 1, signal });
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      signal.throwIfAborted();
      const read = await readWhilePolling(cluster, { apiVersion: 'batch/v1', kind: 'Job', namespace: options.namespace, name });
      if (read.kind === 'absent') throw new PackageInstallFailedError(node, `Job ${name} disappeared`, '');
      if (read.kind === 'found') {
        const state = assessInstallerJob(read.object);
        if (state.state === 'succeeded') return;
        if (state.state === 'failed') throw new PackageInstallFailedError(node, `${state.reason}: ${state.message}`, await tail(cluster, options.namespace, name));
      }
      if (!(await waitForNextPoll(deadline, pollInterval(options), signal))) {
        throw new PackageInstallFailedError(node, `Job ${name} did not finish in time`, await tail(cluster, options.namespace, name));
      }
    }
  };
}

async function tail(cluster: BootstrapCluster, namespace: string, jobName: string): Promise<string> {
  try {
    const logs = await cluster.readLogs(namespace, `job-name=${jobName}`, 50);
    return splitLogLines(redactLogText(logs.map((l) => l.text).join(''))).slice(-50).join('\n');
  } catch (error: unknown) {
    if (error instanceof KubernetesRequestError) return '';
    throw error;
  }
}
