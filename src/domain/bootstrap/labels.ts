/**
 * Labels on what a bootstrap applies (to the bootstrap or management cluster), so Slipway finds
 * its objects again, and names derived from the cluster name and the bootstrap job id. Pure.
 */
import { hashHex } from '../names.js';

export const BOOTSTRAP_LABEL_KEYS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  cluster: 'slipway.io/cluster',
  bootstrapJob: 'slipway.io/bootstrap-job',
  /** On the installer's pod template: selects its pods for their logs. */
  installerJob: 'slipway.io/installer-job',
} as const;

/** Label values must be at most 63 characters: a job id (a UUID) is 36. */
export function bootstrapLabels(cluster: string, jobId: string, component: string): Record<string, string> {
  return {
    [BOOTSTRAP_LABEL_KEYS.managedBy]: 'slipway',
    [BOOTSTRAP_LABEL_KEYS.component]: component,
    [BOOTSTRAP_LABEL_KEYS.cluster]: cluster,
    [BOOTSTRAP_LABEL_KEYS.bootstrapJob]: jobId.slice(0, 63),
  };
}

/** The Secret the KUD installer writes the new cluster's kube config to (key `admin.conf`). */
export function adminConfSecretName(cluster: string): string {
  return `${cluster}-admin-conf`;
}
export const ADMIN_CONF_KEY = 'admin.conf';

/** The Secret Cluster API writes the workload cluster's kube config to (key `value`). */
export function capiKubeconfigSecretName(cluster: string): string {
  return `${cluster}-kubeconfig`;
}
export const CAPI_KUBECONFIG_KEY = 'value';

/**
 * `kud-<cluster>-<hash of the job id>`: the same bootstrap job (a retry, a second delivery) finds
 * its Job again; a new bootstrap of the same cluster gets a new Job (a Job's template is immutable).
 */
export function installerJobName(cluster: string, jobId: string): string {
  return `kud-${cluster}-${hashHex(jobId, 8)}`;
}
