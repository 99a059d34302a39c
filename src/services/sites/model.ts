import type { ConfigDrive, HostSpec } from '../../domain/baremetal/host.js';
import type { HostErrorType, HostState } from '../../domain/baremetal/states.js';

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

/** A host as the API shows it: never its BMC credentials. */
export interface Host {
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
