import Fastify, { type FastifyBaseLogger } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Pool } from './adapters/db/pool.js';
import type { SecretBox } from './adapters/crypto/secret-box.js';
import type { SolutionSource } from './domain/solution.js';
import type { JobQueue } from './jobs/queue.js';
import { createAuthenticator } from './http/auth/authenticator.js';
import type { Principal } from './http/auth/jwt.js';
import { sendProblem } from './http/problem.js';
import { registerMetrics } from './http/metrics.js';
import { openApiInfo } from './http/openapi.js';
import { healthRoutes } from './http/health/routes.js';
import { grapheneRoutes } from './http/graphene/routes.js';
import { deploymentRoutes } from './http/deployments/routes.js';
import { solutionRoutes } from './http/solutions/routes.js';
import { homeRoutes } from './http/home/routes.js';
import { assetRoutes } from './http/assets/routes.js';
import { DeploymentService } from './services/deployments/service.js';
import { DeploymentLifecycle } from './services/deployments/lifecycle.js';
import type { Listener } from './adapters/db/listener.js';
import type { ClusterClient } from './adapters/kubernetes/cluster-client.js';
import type { SafeKubeconfig } from './domain/kubeconfig.js';
import { registerIdempotency } from './http/idempotency.js';
import { jobRoutes } from './http/jobs/routes.js';
import { siteRoutes } from './http/sites/routes.js';
import { SiteService } from './services/sites/service.js';
import type { HostReconciler } from './services/sites/reconcile.js';
import type { DownloadSigner } from './services/packages/download-url.js';
import { solutionZipRoutes } from './http/solutions/zip-routes.js';
import type { LocalSolutionSource } from './adapters/local-solutions/local-solution-source.js';
import { auditRoutes } from './http/audit/routes.js';
import { clusterRoutes } from './http/clusters/routes.js';
import { siteClusterRoutes } from './http/clusters/site-routes.js';
import { packageRoutes } from './http/clusters/package-routes.js';
import { ClusterService } from './services/clusters/service.js';
import { BootstrapService } from './services/clusters/bootstrap.js';
import { SiteRolloutService } from './services/sites/rollout.js';
import { PackageService } from './services/packages/service.js';
import { createPackageStore } from './services/packages/upload-store.js';
import { NotFoundError } from './errors.js';
import type { App } from './http/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyInstance {
    /** preHandler: verifies the Graphene token and sets request.principal, or answers 401. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    isAdmin: (principal: Principal) => boolean;
    /** preHandler (after authenticate): Idempotency-Key handling for POSTs. */
    idempotent: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export interface AppDeps {
  config: Config;
  logger: Logger;
  pool: Pool;
  queue: JobQueue;
  solutionSource: SolutionSource;
  secretBox: SecretBox;
  jwtKey: Uint8Array;
  /** Imported solutions and the bundled examples (also inside `solutionSource`); imports land here. */
  localSolutions: LocalSolutionSource;
  listener: Listener;
  connectCluster: (kubeconfig: SafeKubeconfig) => ClusterClient;
  /** Signs and checks the package download links install Jobs use. */
  downloads: DownloadSigner;
  /** Compares hosts with their Ironic nodes on reads (absent without IRONIC_URL). */
  reconciler?: HostReconciler;
}

/**
 * Headers for every answer, set by @fastify/helmet: the pages load scripts and styles only from
 * /assets (nothing inline), post forms only here, and may not be framed; no Referer leaves a page,
 * since a page's address can carry the Graphene token (`?jwtToken=`).
 */
const SECURITY_HEADERS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' as const },
  referrerPolicy: { policy: 'no-referrer' as const },
};

/** Builds the HTTP application: plugins, then routes. The server and the tests build it alike. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const app: App = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: true,
    bodyLimit: 2 * 1024 * 1024,
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('principal', undefined);
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error, config.basePath));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new NotFoundError(`No route for ${request.method} ${request.url.split('?')[0]}`), config.basePath),
  );

  await app.register(cookie);
  await app.register(helmet, SECURITY_HEADERS);
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  await app.register(multipart, { limits: { fileSize: 1024 * 1024, files: 1, fields: 20 } });
  await app.register(swagger, { openapi: openApiInfo(config.basePath) });
  await app.register(swaggerUi, {
    routePrefix: `${config.basePath}/docs`,
    // Swagger UI sets inline styles from its script; only its own pages get that allowance.
    transformStaticCSP: (header: string) => header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  });

  const authenticator = createAuthenticator({ key: deps.jwtKey, basePath: config.basePath, adminRoles: config.adminRoles });
  app.decorate('authenticate', async (request, reply) => {
    request.principal = await authenticator.authenticate(request, reply);
  });
  app.decorate('isAdmin', (principal: Principal) => authenticator.isAdmin(principal));

  const deployments = new DeploymentService(deps);
  const lifecycle = new DeploymentLifecycle(deps, deployments);
  const sites = new SiteService(deps);
  const clusters = new ClusterService(deps);
  const bootstrap = new BootstrapService(deps);
  const rollouts = new SiteRolloutService(deps);
  const packages = new PackageService({ ...deps, clusters, store: createPackageStore({ directory: config.packagesDir }) });

  await app.register(
    async (scoped) => {
      const api = scoped as App;
      registerMetrics(api, '/metrics');
      api.get('/openapi.json', { schema: { hide: true } }, async () => api.swagger());
      await healthRoutes(api, deps);
      await homeRoutes(api, deps);
      await assetRoutes(api);
      registerIdempotency(api, deps.pool);
      await grapheneRoutes(api, { ...deps, deployments, clusters });
      await deploymentRoutes(api, { ...deps, deployments, lifecycle, clusters });
      await jobRoutes(api, deps);
      await auditRoutes(api, deps);
      await siteRoutes(api, { sites, config });
      await clusterRoutes(api, { clusters, bootstrap, config });
      await siteClusterRoutes(api, { bootstrap, rollouts, config });
      await packageRoutes(api, { packages, config, downloads: deps.downloads });
      await solutionRoutes(api, deps);
      await solutionZipRoutes(api, { solutionSource: deps.solutionSource, config, localSolutions: deps.localSolutions });
    },
    { prefix: config.basePath },
  );
  return app;
}
