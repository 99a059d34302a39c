import type { ConfigDrive, HostSpec } from '../../domain/baremetal/host.js';
import type { HostErrorType, HostState } from '../../domain/baremetal/states.js';
import type { NodeDifference } from '../../domain/baremetal/observe.js';

export interface Site {
  name: string;
  description: string;
  owner: string;
  createdAt: string;
  updatedAt: string;
}

export interface HostLocation {
  room?: string;
  rack?: string;
  position?: string;
}

/**
 * What Slipway saw of the host's Ironic node when it did not match the host's state (the node's
 * own words, why it differs: domain/baremetal/observe.ts), and since when. Nothing is rewritten
 * from it silently.
 */
export type HostObservedState = NodeDifference & { seenAt: string };

/** A host as the API shows it: never its BMC credentials. */
export interface Host {
  /** Slipway's id of the host, marked on its Ironic node (extra.slipway_host). */
  id: string;
  /** Its Ironic node's name, unique across every site: `<site>.<host>`. */
  nodeName: string;
  /** Set when the node differs from `state` (see HostObservedState); null when they agree. */
  observed: HostObservedState | null;
  site: string;
  name: string;
  spec: HostSpec;
  location: HostLocation;
  configDrive: ConfigDrive;
  labels: Record<string, string>;
  state: HostState;
  errorType: HostErrorType | null;
  errorMessage: string | null;
  nodeId: string | null;
  poweredOn: boolean | null;
  /** The provisioned server's address, when known (from the network data or a later inspection). */
  address: string | null;
  jobId: string | null;
  createdAt: string;
  updatedAt: string;
}
