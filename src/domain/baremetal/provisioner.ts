/**
 * What Slipway asks of a bare-metal provisioner (Ironic in production, a double in tests), after
 * Metal3's provisioner interface: every method does one step of work, returns at once and reports
 * progress as a value. The caller calls again after `retryAfterMs` until `done` or `error`.
 *
 * Every method reads the node's current state first and treats "already there" as done, so
 * calling it again — after a crash, from a second worker, in a new job — is harmless, unless its
 * comment says otherwise. Problems with the host (a BMC that refuses the password, a failed
 * deploy) come back as `error` values; a method throws only when the provisioner itself cannot be
 * reached or answers nonsense (an UpstreamError), which the caller may retry.
 *
 * Credentials reach Ironic only when it needs them: `register` is the one method that takes them.
 */
import type { BmcCredentials, ConfigDrive, HostImage, HostSpec } from './host.js';
import type { HostError, HostState } from './states.js';

export type PowerAction = 'on' | 'off' | 'reboot';

/**
 * Which provisioner node is the host's own. A node is only ever used when it carries the host's
 * mark (`hostId`), or is the node recorded for the host (`nodeId`, from before marks existed), or
 * — unmarked, found by name or boot MAC — when the operator asked to `adopt` it. A node marked for
 * another host is never touched.
 */
export interface NodeIdentity {
  /** Slipway's id of the host: the node's mark. */
  hostId: string;
  /** The host as people name it (`<site>/<host>`), for messages and the node's mark. */
  label: string;
  /** The node's name, unique across every site. */
  nodeName: string;
  /** The node's UUID when one was created or found before. */
  nodeId: string | null;
  /** Take over an unmarked node found by name or boot MAC. */
  adopt?: boolean;
}

/** A host as the provisioner works on it: its spec and its node's identity. */
export type ProvisionerHost = HostSpec & { node: NodeIdentity };

/** Options for methods that may find the node failed from an earlier attempt. */
export interface StepOptions {
  /**
   * The node is in a failed state (verification failed, deploy failed, clean failed): true starts
   * the operation again, false reports the failure. The engine passes true on the first call of a
   * job (a new job is a deliberate retry) and false on the polls that follow, so one failure is
   * reported once instead of retried forever.
   */
  restartOnFailure?: boolean;
}

export type Progress =
  /** The step is complete; `state` is where the host is now. */
  | { done: true; state: HostState; nodeId?: string; error?: undefined; retryAfterMs?: undefined }
  /** Work is under way; call again after `retryAfterMs`. */
  | { done: false; state: HostState; retryAfterMs: number; nodeId?: string; error?: undefined }
  /** The step failed; `state` is `error`. Calling again with restartOnFailure retries. */
  | { done: false; state: 'error'; error: HostError; nodeId?: string; retryAfterMs?: undefined };

/** What the provisioner knows about a host right now (read only). */
export interface HostObservation {
  /** Whether the provisioner has a node for this host. */
  registered: boolean;
  nodeId?: string;
  state: HostState;
  /** Set when `state` is `error`. */
  error?: HostError;
  /** Undefined when the power state is unknown (never read, or the BMC failed). */
  poweredOn?: boolean;
  /** A power change is still in progress. */
  powerChanging: boolean;
  /** Ironic's own words: provision state and last error, for operators. */
  detail?: { provisionState: string; targetProvisionState?: string; lastError?: string; maintenance?: boolean };
  /**
   * Why the provisioner cannot say (no node though one was recorded: `gone`; the node found is
   * another host's or nobody's: `conflict`), with the reason in words.
   */
  problem?: { kind: 'gone' | 'conflict'; message: string };
}

export interface BareMetalProvisioner {
  /**
   * Make sure a node exists for the host and is verified (Ironic `manageable` or further): find it
   * by name, else by the port with the boot MAC, else create node and port; then `manage`.
   * Idempotent. With restartOnFailure (the first call of a job) it also writes the given BMC
   * credentials to an existing node, so a corrected or rotated password takes effect; the polls
   * that follow send no credentials.
   */
  register(host: ProvisionerHost, credentials: BmcCredentials, options?: StepOptions): Promise<Progress>;

  /** Bring a registered node to `available` (Ironic `provide`, which may clean). Idempotent. */
  makeAvailable(host: ProvisionerHost, options?: StepOptions): Promise<Progress>;

  /**
   * Write the image and config drive and boot the host (Ironic instance_info, then `active`).
   * Idempotent: a node already deployed with this image is done; one deployed with another
   * image is an error (deprovision it first).
   */
  provision(host: ProvisionerHost, image: HostImage, configDrive: ConfigDrive, options?: StepOptions): Promise<Progress>;

  /** Wipe the host back to `available` (Ironic `deleted`, then cleaning). Idempotent. */
  deprovision(host: ProvisionerHost, options?: StepOptions): Promise<Progress>;

  /**
   * Request a power change. `done` means Ironic accepted the request (or, for `on` and `off`, the
   * host is already there); `done: false` means it could not be sent yet (another change pending,
   * node locked): call again. Follow the change itself with `status` until `powerChanging` is
   * false. `on` and `off` are idempotent; `reboot` is NOT: every call that returns done reboots.
   */
  setPower(host: ProvisionerHost, action: PowerAction): Promise<Progress>;

  /**
   * Stop the operation in progress where Ironic allows it (cleaning, inspection). Elsewhere — a
   * deploy in progress, say — Ironic cannot abort and the operation carries on; `done` is true
   * either way and `state` tells where the host is. Idempotent.
   */
  abort(host: ProvisionerHost): Promise<Progress>;

  /**
   * Delete the host's node from the provisioner, which then forgets it (state `enrolled`).
   * A deployed node is refused (deprovision first); a failed one is put into maintenance and
   * deleted. Idempotent: no node is done.
   */
  remove(host: ProvisionerHost): Promise<Progress>;

  /** Read the host's state without changing anything. Idempotent. */
  status(host: ProvisionerHost): Promise<HostObservation>;
}
