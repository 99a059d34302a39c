import path from 'node:path';
import { ConfigError } from './errors.js';

/**
 * Environment → typed configuration, checked at boot. Every bad value is reported at once, one
 * line each, naming the variable and what it accepts. Documented in the README's table.
 */
export const DEFAULT_ORCHESTRATOR_IMAGE =
  'cicd.ai4eu-dev.eu:7444/generic-parallel-orchestrator/orchestrator_container:1.4';

export const DEFAULT_KUD_INSTALLER_IMAGE = 'slipway/kud-installer:latest';
export const DEFAULT_PACKAGE_INSTALLER_IMAGE = 'slipway/package-installer:latest';

export const SERVICE_TYPES = ['NodePort', 'ClusterIP', 'LoadBalancer'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ORCHESTRATOR_ADDRESS_MODES = ['node-port', 'service-dns'] as const;
export type OrchestratorAddressMode = (typeof ORCHESTRATOR_ADDRESS_MODES)[number];

export const RUN_MODES = ['all', 'api', 'worker'] as const;
export type RunMode = (typeof RUN_MODES)[number];

export interface Config {
  port: number;
  host: string;
  /** '' or a prefix starting with '/' and without a trailing slash, e.g. '/creodias-deployer'. */
  basePath: string;
  /** Public URL used in printed links; derived from host/port when unset. */
  publicUrl: string | undefined;
  databaseUrl: string | undefined;
  dataDir: string;
  jwtSecret: string | undefined;
  jwtSecretEncoding: 'base64' | 'utf8';
  /** Roles (from the token's `role` claim) that may read and act on everyone's records. */
  adminRoles: string[];
  solutionSource: 'cds' | 'local';
  solutionsDir: string;
  cds: { url: string; user: string | undefined; password: string | undefined } | undefined;
  nexus: { url: string; user: string | undefined; password: string | undefined } | undefined;
  upstreamTimeoutMs: number;
  /** How long a fetched solution revision is kept in memory (0: not at all). */
  solutionCacheMs: number;
  orchestratorImage: string;
  imagePullSecret: string | undefined;
  sharedFolderSize: string;
  sharedFolderStorageClass: string | undefined;
  serviceType: ServiceType;
  encryptionKey: string | undefined;
  allowInsecureClusters: boolean;
  deployTimeoutMs: number;
  orchestratorAddress: OrchestratorAddressMode;
  logLevel: LogLevel;
  mode: RunMode;
  /** Concurrent jobs per worker process. */
  workerConcurrency: number;
  /** A running job whose worker has not heartbeat for this long is taken over by another. */
  jobLeaseSeconds: number;
  /** Key of the HMAC-SHA256 signature on deployment callbacks (X-Slipway-Signature). */
  callbackSecret: string | undefined;
  /** Allow callback URLs on private or loopback addresses (off: they could reach internal services). */
  allowPrivateCallbacks: boolean;
  /** OpenStack Ironic's API endpoint (standalone, noauth or behind a proxy that authenticates). */
  ironicUrl: string | undefined;
  /** Hosts worked on at once per provisioning job; more wait as `delayed` (Metal3's default: 20). */
  ironicConcurrency: number;
  /** How long one host may take to provision (the reference's launch verification: 60 minutes). */
  provisionTimeoutMs: number;
  /** Poll interval for Ironic's quick and long steps (Metal3: 3 s and 10 s). */
  ironicPollMs: { quick: number; slow: number };
  /** How often hosts with Ironic nodes are compared with them (besides on every read). */
  hostReconcileMs: number;
  /** How often clusters' Nodes are checked for new ones that need the current packages. */
  packageSyncMs: number;
  /** How often live deployments are looked for (and a dead replica's taken over). */
  liveScanMs: number;
  /** A live deployment is checked at least this often, changes or not. */
  liveRecheckMs: number;
  /** Path of the kube config of the cluster the KUD installer runs in (or Cluster API's management cluster). */
  bootstrapKubeconfig: string | undefined;
  /** Namespace of that cluster the installer Jobs (or Cluster API objects) go to. */
  bootstrapNamespace: string;
  kudInstallerImage: string;
  /** How long a bootstrap may take, and how often the installer Job or Cluster is read (≤ 2 s). */
  bootstrapTimeoutMs: number;
  bootstrapPollMs: number;
  /** Cluster API: the API server endpoint (default: the first control-plane host, port 6443) and node image (default: the host's provisioning image). */
  capiControlPlaneEndpoint: { host: string; port?: number } | undefined;
  capiImage: { url: string; checksum: string; checksumType: 'md5' | 'sha256' | 'sha512' } | undefined;
  /** Uploaded packages (content-addressed) and unfinished uploads. */
  packagesDir: string;
  packageInstallerImage: string;
  /** Namespace of each target cluster the package install Jobs run in. */
  packagesNamespace: string;
  /** Nodes per rollout batch (installed at once; a failure stops the rollout after its batch). */
  rolloutBatchSize: number;
  packageInstallTimeoutMs: number;
  /** How long a signed package download link stays good. */
  packageUrlTtlMs: number;
}

type Env = Record<string, string | undefined>;

const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = str(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${name}="${value}" is not one of: ${allowed.join(', ')}`);
    return fallback;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}="${value}" must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const value = str(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    problems.push(`${name}="${value}" must be true or false`);
    return fallback;
  };
  const url = (name: string): string | undefined => {
    const value = str(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
      return value.replace(/\/+$/, '');
    } catch {
      problems.push(`${name}="${value}" must be an http:// or https:// URL`);
      return undefined;
    }
  };
  const duration = (name: string, fallbackMs: number, options: { zeroAllowed?: boolean } = {}): number => {
    const value = str(name);
    if (value === undefined) return fallbackMs;
    const match = /^([0-9]+)(ms|s|m|h)?$/.exec(value);
    if (!match) {
      problems.push(`${name}="${value}" must be a duration such as 600s, 10m or 600000ms (a bare number means seconds)`);
      return fallbackMs;
    }
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
    const ms = Number(match[1]) * factor;
    if (ms <= 0 && !options.zeroAllowed) problems.push(`${name}="${value}" must be greater than zero`);
    return ms;
  };

  const port = int('PORT', 8125, 0, 65535);
  const host = str('HOST') ?? '0.0.0.0';

  let basePath = str('BASE_PATH') ?? '';
  if (basePath !== '') {
    basePath = basePath.replace(/\/+$/, '');
    if (!/^\/[A-Za-z0-9._~\-/]*$/.test(basePath)) {
      problems.push(`BASE_PATH="${env.BASE_PATH}" must start with "/" and contain only URL path characters, e.g. /creodias-deployer`);
      basePath = '';
    }
  }

  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }

  const dataDir = path.resolve(str('DATA_DIR') ?? './data');
  const jwtSecret = str('JWT_SECRET');
  const jwtSecretEncoding = oneOf('JWT_SECRET_ENCODING', ['base64', 'utf8'] as const, 'base64');

  const cdsUrl = url('CDS_URL');
  const nexusUrl = url('NEXUS_URL');
  const solutionSource = oneOf('SOLUTION_SOURCE', ['cds', 'local'] as const, cdsUrl ? 'cds' : 'local');
  if (solutionSource === 'cds') {
    if (!cdsUrl) problems.push('SOLUTION_SOURCE=cds needs CDS_URL (e.g. http://cds-service:8000/ccds)');
    if (!nexusUrl) problems.push('SOLUTION_SOURCE=cds needs NEXUS_URL (the Nexus repository that holds blueprints and protos)');
  }

  const sharedFolderSize = str('SHARED_FOLDER_SIZE') ?? '1Gi';
  if (!QUANTITY.test(sharedFolderSize)) {
    problems.push(`SHARED_FOLDER_SIZE="${sharedFolderSize}" must be a Kubernetes quantity such as 1Gi or 500Mi`);
  }
  const sharedFolderStorageClass = str('SHARED_FOLDER_STORAGE_CLASS');
  if (sharedFolderStorageClass !== undefined && !DNS_SUBDOMAIN.test(sharedFolderStorageClass)) {
    problems.push(`SHARED_FOLDER_STORAGE_CLASS="${sharedFolderStorageClass}" must be a valid storage class name (lower case, digits, '-' and '.')`);
  }
  const imagePullSecret = str('IMAGE_PULL_SECRET');
  if (imagePullSecret !== undefined && !DNS_SUBDOMAIN.test(imagePullSecret)) {
    problems.push(`IMAGE_PULL_SECRET="${imagePullSecret}" must be a valid Secret name (lower case, digits, '-' and '.')`);
  }

  const encryptionKey = str('ENCRYPTION_KEY');
  if (encryptionKey !== undefined && Buffer.from(encryptionKey, 'base64').length !== 32) {
    problems.push('ENCRYPTION_KEY must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)');
  }
  if (encryptionKey === undefined && databaseUrl !== undefined) {
    // With an external database several replicas share records: a key generated on one replica's
    // disk would make the others unable to read them.
    problems.push('ENCRYPTION_KEY is required with DATABASE_URL (32 random bytes, base64: `openssl rand -base64 32`)');
  }
  if (jwtSecret === undefined && databaseUrl !== undefined) {
    problems.push('JWT_SECRET is required with DATABASE_URL (the secret shared with the Graphene portal, jwt.auth.secret.key)');
  }

  const adminRoles = (str('ADMIN_ROLES') ?? 'admin,Admin')
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role !== '');

  const capiEndpoint = str('CAPI_CONTROL_PLANE_ENDPOINT');
  let capiControlPlaneEndpoint: Config['capiControlPlaneEndpoint'];
  if (capiEndpoint !== undefined) {
    const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::([0-9]{1,5}))?$/.exec(capiEndpoint);
    if (!match?.[1]) problems.push(`CAPI_CONTROL_PLANE_ENDPOINT="${capiEndpoint}" must be host or host:port (the API server address of new clusters)`);
    else capiControlPlaneEndpoint = { host: match[1].replace(/^\[|\]$/g, ''), ...(match[2] ? { port: Number(match[2]) } : {}) };
  }
  const capiImageUrl = url('CAPI_IMAGE_URL');
  const capiImageChecksum = str('CAPI_IMAGE_CHECKSUM');
  if (capiImageUrl !== undefined && capiImageChecksum === undefined) problems.push('CAPI_IMAGE_URL needs CAPI_IMAGE_CHECKSUM (a hex digest or the URL of a checksum file)');
  const capiChecksumType = oneOf('CAPI_IMAGE_CHECKSUM_TYPE', ['md5', 'sha256', 'sha512'] as const, 'sha256');
  const bootstrapNamespace = str('BOOTSTRAP_NAMESPACE') ?? 'slipway-bootstrap';
  const packagesNamespace = str('PACKAGES_NAMESPACE') ?? 'slipway-system';
  for (const [name, value] of [['BOOTSTRAP_NAMESPACE', bootstrapNamespace], ['PACKAGES_NAMESPACE', packagesNamespace]] as const) {
    if (value.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) problems.push(`${name}="${value}" must be a namespace name (lower-case letters, digits and '-', at most 63)`);
  }

  const config: Config = {
    port,
    host,
    basePath,
    publicUrl: url('PUBLIC_URL'),
    databaseUrl,
    dataDir,
    jwtSecret,
    jwtSecretEncoding,
    adminRoles,
    solutionSource,
    solutionsDir: path.resolve(str('SOLUTIONS_DIR') ?? path.join(dataDir, 'solutions')),
    cds: cdsUrl ? { url: cdsUrl, user: str('CDS_USER'), password: env.CDS_PASSWORD } : undefined,
    nexus: nexusUrl ? { url: nexusUrl, user: str('NEXUS_USER'), password: env.NEXUS_PASSWORD } : undefined,
    upstreamTimeoutMs: duration('UPSTREAM_TIMEOUT', 15_000),
    solutionCacheMs: duration('SOLUTION_CACHE', 60_000, { zeroAllowed: true }),
    orchestratorImage: str('ORCHESTRATOR_IMAGE') ?? DEFAULT_ORCHESTRATOR_IMAGE,
    imagePullSecret,
    sharedFolderSize,
    sharedFolderStorageClass,
    serviceType: oneOf('SERVICE_TYPE', SERVICE_TYPES, 'NodePort'),
    encryptionKey,
    allowInsecureClusters: bool('ALLOW_INSECURE_CLUSTERS', false),
    deployTimeoutMs: duration('DEPLOY_TIMEOUT', 600_000),
    orchestratorAddress: oneOf('ORCHESTRATOR_ADDRESS', ORCHESTRATOR_ADDRESS_MODES, 'node-port'),
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    mode: oneOf('SLIPWAY_MODE', RUN_MODES, 'all'),
    workerConcurrency: int('WORKER_CONCURRENCY', 4, 1, 256),
    jobLeaseSeconds: int('JOB_LEASE_SECONDS', 30, 1, 3600),
    callbackSecret: str('CALLBACK_SECRET'),
    allowPrivateCallbacks: bool('ALLOW_PRIVATE_CALLBACKS', false),
    ironicUrl: url('IRONIC_URL'),
    ironicConcurrency: int('IRONIC_CONCURRENCY', 20, 1, 1000),
    provisionTimeoutMs: duration('PROVISION_TIMEOUT', 3_600_000),
    // One interval for both kinds of Ironic step when set, else Metal3's 3 s and 10 s.
    ironicPollMs: str('IRONIC_POLL_INTERVAL')
      ? { quick: duration('IRONIC_POLL_INTERVAL', 3000), slow: duration('IRONIC_POLL_INTERVAL', 10_000) }
      : { quick: 3000, slow: 10_000 },
    hostReconcileMs: duration('HOST_RECONCILE_INTERVAL', 60_000),
    bootstrapKubeconfig: str('BOOTSTRAP_KUBECONFIG') !== undefined ? path.resolve(str('BOOTSTRAP_KUBECONFIG') ?? '') : undefined,
    bootstrapNamespace,
    kudInstallerImage: str('KUD_INSTALLER_IMAGE') ?? DEFAULT_KUD_INSTALLER_IMAGE,
    bootstrapTimeoutMs: duration('BOOTSTRAP_TIMEOUT', 3 * 3_600_000),
    bootstrapPollMs: duration('BOOTSTRAP_POLL_INTERVAL', 2000),
    capiControlPlaneEndpoint,
    capiImage: capiImageUrl !== undefined && capiImageChecksum !== undefined ? { url: capiImageUrl, checksum: capiImageChecksum, checksumType: capiChecksumType } : undefined,
    packagesDir: path.resolve(str('PACKAGES_DIR') ?? path.join(dataDir, 'packages')),
    packageInstallerImage: str('PACKAGE_INSTALLER_IMAGE') ?? DEFAULT_PACKAGE_INSTALLER_IMAGE,
    packagesNamespace,
    rolloutBatchSize: int('ROLLOUT_BATCH_SIZE', 10, 1, 1000),
    packageInstallTimeoutMs: duration('PACKAGE_INSTALL_TIMEOUT', 1_800_000),
    packageUrlTtlMs: duration('PACKAGE_URL_TTL', 3_600_000),
    packageSyncMs: duration('PACKAGE_SYNC_INTERVAL', 60_000),
    liveScanMs: duration('LIVE_SCAN_INTERVAL', 5000),
    liveRecheckMs: duration('LIVE_RECHECK_INTERVAL', 30_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * What a valid configuration still leaves undone, said once at start rather than discovered when
 * a Job cannot pull its image or reach its download link.
 */
export function startupNotices(config: Config): string[] {
  const notices: string[] = [];
  if (config.packageInstallerImage === DEFAULT_PACKAGE_INSTALLER_IMAGE) {
    notices.push(`PACKAGE_INSTALLER_IMAGE is the default ${DEFAULT_PACKAGE_INSTALLER_IMAGE}, which nobody publishes: package rollouts will fail to pull it. Build images/package-installer (images/README.md), push it and set PACKAGE_INSTALLER_IMAGE`);
  }
  if (config.bootstrapKubeconfig !== undefined && config.kudInstallerImage === DEFAULT_KUD_INSTALLER_IMAGE) {
    notices.push(`KUD_INSTALLER_IMAGE is the default ${DEFAULT_KUD_INSTALLER_IMAGE}, which nobody publishes: kud-job bootstraps will fail to pull it. Build images/kud-installer (images/README.md), push it and set KUD_INSTALLER_IMAGE`);
  }
  if (config.publicUrl === undefined) {
    notices.push(`PUBLIC_URL is not set: package install Jobs get download links at http://${config.host}:${config.port}${config.basePath}, which a cluster may not reach. Set PUBLIC_URL to this service's address as the clusters see it`);
  }
  return notices;
}
