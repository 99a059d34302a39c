/**
 * Labels and annotations Slipway puts on what it applies. `app` is what Services select on (the
 * reference deployers' convention); the `app.kubernetes.io/*` ones follow Kubernetes' recommended
 * labels; `slipway.io/*` ones let Slipway find its own objects again.
 */
import type { Workload } from './workload.js';

export const LABEL_KEYS = {
  app: 'app',
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  solutionId: 'slipway.io/solution-id',
  revisionId: 'slipway.io/revision-id',
  deploymentId: 'slipway.io/deployment-id',
} as const;

export const ANNOTATION_KEYS = {
  /** The blueprint's container_name, which the Kubernetes name may not spell exactly. */
  containerName: 'slipway.io/container-name',
  sharedFolderPath: 'slipway.io/shared-folder-path',
} as const;

export const MANAGED_BY = 'slipway';

/** Label values shared by every object of one deployment; each already a valid label value. */
export interface LabelContext {
  partOf: string;
  solutionId: string;
  revisionId: string;
  deploymentId?: string;
}

/** Labels every object gets; `name` is the object's own name, `component` what it is for. */
export function commonLabels(context: LabelContext, name: string, component?: string): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_KEYS.name]: name,
    ...(component !== undefined ? { [LABEL_KEYS.component]: component } : {}),
    [LABEL_KEYS.partOf]: context.partOf,
    [LABEL_KEYS.managedBy]: MANAGED_BY,
    [LABEL_KEYS.solutionId]: context.solutionId,
    [LABEL_KEYS.revisionId]: context.revisionId,
  };
  if (context.deploymentId !== undefined) labels[LABEL_KEYS.deploymentId] = context.deploymentId;
  return labels;
}

/** The selector of a workload's Deployment and Service. */
export function selectorLabels(workload: Workload): Record<string, string> {
  return { [LABEL_KEYS.app]: workload.kubeName };
}

/** Labels of a workload's Deployment, pods and Service. */
export function workloadLabels(context: LabelContext, workload: Workload): Record<string, string> {
  return { ...selectorLabels(workload), ...commonLabels(context, workload.kubeName, workload.role) };
}

/**
 * Labels of a workload's pods: the workload's labels without the deployment id. A new deploy of
 * the same revision then changes no pod template, so re-applying it restarts no pod (and does
 * not reset a running orchestrator).
 */
export function podTemplateLabels(context: LabelContext, workload: Workload): Record<string, string> {
  const { deploymentId: _ignored, ...stableContext } = context;
  return workloadLabels(stableContext, workload);
}

export function workloadAnnotations(workload: Workload): Record<string, string> {
  return { [ANNOTATION_KEYS.containerName]: workload.containerName };
}

/** Objects of this namespace that Slipway manages but this deployment did not apply: the previous revision's leftovers. */
export function pruneSelector(deploymentId: string): string {
  return `${LABEL_KEYS.managedBy}=slipway,${LABEL_KEYS.deploymentId}!=${deploymentId}`;
}
