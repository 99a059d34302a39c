import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './adapters/db/embedded.js';
import { createPool, type Pool } from './adapters/db/pool.js';
import { migrate } from './adapters/db/migrate.js';
import { createSecretBox, loadEncryptionKey } from './adapters/crypto/secret-box.js';
import { ensureGeneratedSecret } from './adapters/crypto/generated-secret.js';
import { createSolutionSources } from './adapters/solution-source.js';
import { createClusterClient } from './adapters/kubernetes/cluster-client.js';
import { connectOrchestrator } from './adapters/orchestrator/client.js';
import { decodeJwtSecret, ensureDevSecret } from './http/auth/secret.js';
import { startJobQueue, type JobQueue } from './jobs/queue.js';
import { JOB_KINDS } from './jobs/model.js';
import { startWorkers, type Workers } from './jobs/workers.js';
import { deployHandler, type DeployDeps } from './jobs/handlers/deploy.js';
import { undeployHandler } from './jobs/handlers/undeploy.js';
import { notifyHandler } from './jobs/handlers/notify.js';
import { bareMetalHandler } from './jobs/handlers/baremetal.js';
import { bootstrapHandler } from './jobs/handlers/bootstrap.js';
import { packageRolloutHandler, type InstallerFactory } from './jobs/handlers/package-rollout.js';
import { siteRolloutHandler } from './jobs/handlers/site-rollout.js';
import { BootstrapService } from './services/clusters/bootstrap.js';
import { HostReconciler } from './services/sites/reconcile.js';
import { PackageNodeSync } from './services/packages/node-sync.js';
import { LiveMonitor } from './services/deployments/live-monitor.js';
import { createDownloadSigner } from './services/packages/download-url.js';
import { ironicProvisionerFactory } from './services/provisioning/ironic-provisioner.js';
import { DeploymentService } from './services/deployments/service.js';
import { SiteService } from './services/sites/service.js';
import { loadBootstrapKubeconfig } from './services/clusters/bootstrap-kubeconfig.js';
import type { BareMetalProvisioner } from './domain/baremetal/provisioner.js';
import { startListener } from './adapters/db/listener.js';
import { JOB_EVENTS_CHANNEL } from './jobs/store.js';
import type { SafeKubeconfig } from './domain/kubeconfig.js';
import type { SolutionSource } from './domain/solution.js';
import { buildApp } from './app.js';
import type { App } from './http/types.js';

/**
 * Assembles a running Slipway: database (embedded or external), migrations, queue, adapters, the
 * HTTP app and the workers. server.ts and the integration tests start it the same way; tests may
 * swap adapters for doubles through `overrides`.
 */
export interface Runtime {
  app: App;
  config: Config;
  pool: Pool;
  queue: JobQueue;
  databaseUrl: string;
  /** Set when no JWT_SECRET was given and a development secret was generated. */
  devSecret: Uint8Array | undefined;
  stop(): Promise<void>;
}

export interface RuntimeOverrides {
  solutionSource?: SolutionSource;
  connectCluster?: DeployDeps['connectCluster'];
  connectOrchestrator?: DeployDeps['connectOrchestrator'];
  provisioner?: () => BareMetalProvisioner;
  /** How package rollouts install on nodes (default: a Kubernetes Job per node on the cluster). */
  packageInstaller?: InstallerFactory;
}

/** Where the embedded setup keeps the callback signing key it made (CALLBACK_SECRET unset). */
export const CALLBACK_SECRET_FILE = 'callback-secret';

export async function startRuntime(configured: Config, logger: Logger, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const config = await withGeneratedSecrets(configured, logger);
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (databaseUrl === undefined) {
    logger.info({ dataDir: config.dataDir }, 'starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres(config.dataDir, { onLog: (line) => logger.debug({ postgres: line }) });
    databaseUrl = embedded.url;
  }
  const applied = await migrate(databaseUrl, (message) => logger.debug({ migrate: message }));
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  const pool = createPool(databaseUrl);
  const queue = await startJobQueue(databaseUrl, JOB_KINDS, (error) => logger.error({ err: error }, 'job queue error'));
  const encryptionKey = await loadEncryptionKey(config.encryptionKey, config.dataDir);
  const secretBox = createSecretBox(encryptionKey);
  const downloads = createDownloadSigner(encryptionKey, { ttlMs: config.packageUrlTtlMs, basePath: config.basePath });
  let devSecret: Uint8Array | undefined;
  let jwtKey: Uint8Array;
  if (config.jwtSecret !== undefined) {
    jwtKey = decodeJwtSecret(config.jwtSecret, config.jwtSecretEncoding);
  } else {
    devSecret = decodeJwtSecret(await ensureDevSecret(config.dataDir), 'base64');
    jwtKey = devSecret;
  }
  const bootstrapKubeconfig = await loadBootstrapKubeconfig(config);
  const sources = createSolutionSources(config);
  const solutionSource = overrides.solutionSource ?? sources.source;
  const localSolutions = sources.local;
  const listener = await startListener(databaseUrl, JOB_EVENTS_CHANNEL, (error) => logger.warn({ err: error }, 'event listener error'));
  const connectCluster = overrides.connectCluster ?? ((kubeconfig: SafeKubeconfig) => createClusterClient(kubeconfig));
  const provisioner = overrides.provisioner ?? ironicProvisionerFactory(config);
  const reconciler = provisioner ? new HostReconciler({ pool, provisioner, log: logger }) : undefined;
  const app = await buildApp({ config, logger, pool, queue, solutionSource, localSolutions, secretBox, jwtKey, listener, connectCluster, downloads, ...(reconciler ? { reconciler } : {}) });
  let stopReconciling: (() => void) | undefined;

  let workers: Workers | undefined;
  if (config.mode !== 'api') {
    const deployDeps: DeployDeps = {
      config,
      pool,
      queue,
      secretBox,
      solutionSource,
      connectCluster,
      connectOrchestrator: overrides.connectOrchestrator ?? ((address) => connectOrchestrator(address)),
    };
    const bootstrap = new BootstrapService({ config, pool, queue });
    const bareMetal = {
      config, pool, secretBox,
      ...(provisioner ? { provisioner } : {}),
      afterProvision: (site: string, hosts: string[]) => bootstrap.scaleOutLabelledHosts(site, hosts),
    };
    const bootstrapDeps = { config, pool, queue, secretBox, connectCluster, bootstrapKubeconfig };
    const handlers = {
      deploy: deployHandler(deployDeps),
      undeploy: undeployHandler(deployDeps),
      provision: bareMetalHandler('provision', bareMetal),
      deprovision: bareMetalHandler('deprovision', bareMetal),
      power: bareMetalHandler('power', bareMetal),
      bootstrap: bootstrapHandler('bootstrap', bootstrapDeps),
      'scale-out': bootstrapHandler('scale-out', bootstrapDeps),
      'package-rollout': packageRolloutHandler({ config, pool, secretBox, connectCluster, downloads, ...(overrides.packageInstaller ? { installer: overrides.packageInstaller } : {}) }),
      'site-rollout': siteRolloutHandler({
        pool,
        sites: new SiteService({ config, pool, queue, secretBox }),
        bootstrap,
        deployments: new DeploymentService({ config, pool, queue, solutionSource, secretBox }),
      }),
    };
    await queue.workTask('notify', notifyHandler({ pool, config, log: logger }));
    const stopHosts = reconciler?.startPeriodic(config.hostReconcileMs);
    const stopNodeSync = new PackageNodeSync({ config, pool, queue, secretBox, connectCluster, log: logger }).startPeriodic(config.packageSyncMs);
    const live = new LiveMonitor({ config, pool, queue, secretBox, solutionSource, connectCluster, log: logger }, { scanMs: config.liveScanMs, recheckMs: config.liveRecheckMs });
    live.start();
    stopReconciling = () => {
      stopHosts?.();
      stopNodeSync();
      void live.stop();
    };
    workers = await startWorkers(queue, pool, handlers, { concurrency: config.workerConcurrency, leaseSeconds: config.jobLeaseSeconds }, logger);
  }

  return {
    app,
    config,
    pool,
    queue,
    databaseUrl,
    devSecret,
    async stop() {
      stopReconciling?.();
      workers?.stop();
      await app.close();
      await listener.close();
      await queue.stop(30_000);
      await pool.end();
      await embedded?.stop();
    },
  };
}

/**
 * The embedded setup (no DATABASE_URL) makes what it needs for itself, like the development JWT
 * secret and the encryption key: without CALLBACK_SECRET, a callback signing key in
 * `DATA_DIR/callback-secret` (mode 0600). With DATABASE_URL several replicas must share one key,
 * so CALLBACK_SECRET stays required for callbacks there.
 */
export async function withGeneratedSecrets(config: Config, logger: Logger): Promise<Config> {
  if (config.callbackSecret !== undefined || config.databaseUrl !== undefined) return config;
  const callbackSecret = await ensureGeneratedSecret(config.dataDir, CALLBACK_SECRET_FILE);
  logger.info({ file: path.join(config.dataDir, CALLBACK_SECRET_FILE) }, 'callbacks are signed with the generated key in this file (CALLBACK_SECRET is not set)');
  return { ...config, callbackSecret };
}
