import type {
  CoreV1Event,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';

/**
 * Health of one object, the way gitops-engine reports it:
 * - `ready`: nothing more to wait for;
 * - `progressing`: not there yet; `reason` says what it is stuck on (a missing image, no node with
 *   room, a volume that cannot be provisioned) — these can still resolve, so a timeout decides;
 * - `failed`: waiting will not help (an invalid image name, a container that keeps crashing, a
 *   Deployment past its progress deadline).
 */
export const HEALTH_STATUSES = ['progressing', 'ready', 'failed'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export interface Assessment {
  status: HealthStatus;
  reason?: string;
}

export const ASSESSED_KINDS = ['Deployment', 'PersistentVolumeClaim', 'Service'] as const;
export type AssessedKind = (typeof ASSESSED_KINDS)[number];

export interface NodeHealth extends Assessment {
  name: string;
  kind: AssessedKind;
}

/** What one read of a solution's namespace returned (the input of every assessment). */
export interface ClusterState {
  deployments: V1Deployment[];
  pods: V1Pod[];
  pvcs: V1PersistentVolumeClaim[];
  services: V1Service[];
  events: CoreV1Event[];
}

/** The names of the objects a deploy applied and now waits for. */
export interface ExpectedSolution {
  deployments: readonly string[];
  persistentVolumeClaims: readonly string[];
  /** Services whose node ports must be assigned; none are checked when omitted. */
  services?: readonly string[];
}

export interface SolutionHealth {
  /** Every expected object is ready. */
  ready: boolean;
  /** Some object failed in a way waiting cannot fix; stop waiting. */
  terminal: boolean;
  nodes: NodeHealth[];
}
