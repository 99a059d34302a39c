import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import {
  AppsV1Api,
  VersionApi,
  CoreV1Api,
  createConfiguration,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  ServerConfiguration,
  type Cluster,
  type Configuration,
  type Middleware,
  type RequestContext,
  type ResponseContext,
  type SecurityAuthentication,
  type User,
  type V1APIResource,
  type V1APIResourceList,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import { ApiServerHttp } from './http2.js';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';

/**
 * The HTTP side of the cluster client, built from the sanitised kube config only (never from the
 * user's text): one TLS context, HTTP/2 to servers that offer it and one keep-alive agent for
 * those that do not (http2.ts), the credentials on every request, a timeout on every request, and
 * a request counter (the apply benchmark reports round trips).
 */

const CONTEXT = 'slipway';

/** Only inline data goes in: no file, no exec, no auth provider, no proxy can reach the client. */
export function buildKubeConfig(safe: SafeKubeconfig): KubeConfig {
  const plainHttp = safe.server.startsWith('http:');
  const cluster: Cluster = {
    name: CONTEXT,
    server: safe.server,
    // The client refuses http:// unless skipTLSVerify is set; there is no TLS to verify then.
    skipTLSVerify: safe.insecureSkipTlsVerify || plainHttp,
    ...(safe.caData !== undefined ? { caData: safe.caData } : {}),
    ...(safe.tlsServerName !== undefined ? { tlsServerName: safe.tlsServerName } : {}),
  };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [userOf(safe)],
    contexts: [{ name: CONTEXT, cluster: CONTEXT, user: CONTEXT, ...(safe.namespace ? { namespace: safe.namespace } : {}) }],
    currentContext: CONTEXT,
  });
  return kc;
}

function userOf(safe: SafeKubeconfig): User {
  switch (safe.auth.kind) {
    case 'clientCert':
      return { name: CONTEXT, certData: safe.auth.certData, keyData: safe.auth.keyData };
    case 'token':
      return { name: CONTEXT, token: safe.auth.token };
    case 'basic':
      return { name: CONTEXT, username: safe.auth.username, password: safe.auth.password };
  }
}

/**
 * The kube config's credentials on each request. Client certificates travel in the TLS context
 * (of the agent and of the HTTP/2 connection alike); a token or a user name and password become
 * the Authorization header. The client library's own KubeConfig authentication would also build a
 * new agent for every request, which the transport replaces anyway.
 */
function credentialsOf(safe: SafeKubeconfig): SecurityAuthentication {
  const auth = safe.auth;
  const header =
    auth.kind === 'token'
      ? `Bearer ${auth.token}`
      : auth.kind === 'basic'
        ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
        : undefined;
  return {
    getName: () => 'slipway kube config credentials',
    applySecurityAuthentication: (context: RequestContext) => {
      if (header !== undefined) context.setHeaderParam('Authorization', header);
    },
  };
}

function createSecureContext(safe: SafeKubeconfig): tls.SecureContext {
  const fromBase64 = (data: string | undefined): Buffer | undefined =>
    data === undefined ? undefined : Buffer.from(data, 'base64');
  // One secure context for every connection: given as cert/key/ca options instead, Node parses
  // the key and certificates again for each new connection (milliseconds of CPU each).
  return tls.createSecureContext({
    ...(safe.caData !== undefined ? { ca: fromBase64(safe.caData) } : {}),
    ...(safe.auth.kind === 'clientCert' ? { cert: fromBase64(safe.auth.certData), key: fromBase64(safe.auth.keyData) } : {}),
  });
}

/**
 * For HTTP/1.1 servers: the stock client makes a new agent (a new TCP + TLS handshake) for every
 * request; one keep-alive agent with the same TLS material saves those round trips. Certificate
 * checks stay on unless the (admin-allowed) kube config turned them off, whatever
 * NODE_TLS_REJECT_UNAUTHORIZED says.
 */
function createAgent(safe: SafeKubeconfig, secureContext: tls.SecureContext, maxSockets: number): http.Agent {
  if (safe.server.startsWith('http:')) return new http.Agent({ keepAlive: true, maxSockets });
  return new https.Agent({
    keepAlive: true,
    maxSockets,
    rejectUnauthorized: !safe.insecureSkipTlsVerify,
    secureContext,
    ...(safe.tlsServerName !== undefined ? { servername: safe.tlsServerName } : {}),
  });
}

/**
 * KubernetesObjectApi fetches a group version's resource list before its first request for that
 * group version, and caches the answer only once it arrives: a wave of twenty Deployments would
 * fetch `apps/v1` twenty times. Here concurrent callers share one in-flight promise.
 */
/**
 * The built-in resources Slipway writes, as every Kubernetes since 1.16 serves them (their plural
 * name and scope are part of the stable API). Other kinds (custom resources) are discovered.
 */
const BUILT_IN_RESOURCES: Readonly<Record<string, V1APIResource>> = Object.fromEntries(
  (
    [
      ['v1', 'Namespace', 'namespaces', false],
      ['v1', 'Service', 'services', true],
      ['v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true],
      ['v1', 'Secret', 'secrets', true],
      ['v1', 'ConfigMap', 'configmaps', true],
      ['v1', 'ServiceAccount', 'serviceaccounts', true],
      ['apps/v1', 'Deployment', 'deployments', true],
      ['batch/v1', 'Job', 'jobs', true],
      ['rbac.authorization.k8s.io/v1', 'Role', 'roles', true],
      ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true],
      ['authorization.k8s.io/v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false],
      ['storage.k8s.io/v1', 'StorageClass', 'storageclasses', false],
      ['v1', 'ResourceQuota', 'resourcequotas', true],
    ] as const
  ).map(([apiVersion, kind, name, namespaced]) => [
    `${apiVersion}/${kind}`,
    { kind, name, namespaced, singularName: kind.toLowerCase(), verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  ]),
);

export class SharedDiscoveryObjectApi extends KubernetesObjectApi {
  private readonly resourceLists = new Map<string, Promise<V1APIResourceList>>();

  protected override async resource(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    // Built-in kinds every cluster serves the same way need no discovery round trip.
    const builtIn = BUILT_IN_RESOURCES[`${apiVersion}/${kind}`];
    if (builtIn) return builtIn;
    return (await this.resourceList(apiVersion)).resources.find((resource) => resource.kind === kind);
  }

  /** Fetch the resource lists these objects need now, all at once (a wave later needs no extra round trip). */
  async discover(objects: ReadonlyArray<{ apiVersion: string; kind: string }>): Promise<void> {
    const unknown = objects.filter((object) => !BUILT_IN_RESOURCES[`${object.apiVersion}/${object.kind}`]).map((object) => object.apiVersion);
    await Promise.all([...new Set(unknown)].map((apiVersion) => this.resourceList(apiVersion)));
  }

  private resourceList(apiVersion: string): Promise<V1APIResourceList> {
    let list = this.resourceLists.get(apiVersion);
    if (list === undefined) {
      list = this.fetchResourceList(apiVersion);
      this.resourceLists.set(apiVersion, list);
      // A failed discovery is not cached: the next call asks again.
      list.catch(() => this.resourceLists.delete(apiVersion));
    }
    return list;
  }

  private fetchResourceList(apiVersion: string): Promise<V1APIResourceList> {
    const context = this.configuration.baseServer.makeRequestContext(this.apiVersionPath(apiVersion), HttpMethod.GET);
    context.setHeaderParam('Accept', 'application/json');
    return this.requestPromise<V1APIResourceList>(context, 'V1APIResourceList');
  }

  static create(configuration: Configuration, kc: KubeConfig): SharedDiscoveryObjectApi {
    const api = new SharedDiscoveryObjectApi(configuration);
    api.setDefaultNamespace(kc);
    return api;
  }
}

export interface TransportOptions {
  requestTimeoutMs: number;
  maxSockets: number;
}

export interface Transport {
  /** `Kubernetes API <host>`: how errors name the system. */
  readonly system: string;
  readonly objects: SharedDiscoveryObjectApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly version: VersionApi;
  /** The same credentials for the client library's streaming calls (watches). */
  readonly kubeConfig: KubeConfig;
  /** HTTP requests sent so far (discovery included). */
  requestCount(): number;
  /** Opens the connection ahead of the first request (a failure is reported by that request). */
  preconnect(): void;
  close(): void;
}

export function createTransport(safe: SafeKubeconfig, options: TransportOptions): Transport {
  const kc = buildKubeConfig(safe);
  const secureContext = createSecureContext(safe);
  const agent = createAgent(safe, secureContext, options.maxSockets);
  // HTTP/2 when the server offers it; the agent above serves HTTP/1.1 otherwise.
  const httpApi = new ApiServerHttp({
    server: new URL(safe.server),
    secureContext,
    rejectUnauthorized: !safe.insecureSkipTlsVerify,
    ...(safe.tlsServerName !== undefined ? { tlsServerName: safe.tlsServerName } : {}),
    connectTimeoutMs: options.requestTimeoutMs,
  });
  let requests = 0;
  // One middleware only: the generated client reverses the middleware array in place on every response.
  const middleware: Middleware = {
    pre: async (context: RequestContext) => {
      requests += 1;
      context.setAgent(agent);
      context.setSignal(AbortSignal.timeout(options.requestTimeoutMs));
      return context;
    },
    post: async (response: ResponseContext) => response,
  };
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(safe.server, {}),
    authMethods: { default: credentialsOf(safe) },
    httpApi: wrapHttpLibrary(httpApi),
    promiseMiddleware: [middleware],
  });
  return {
    system: `Kubernetes API ${new URL(safe.server).host}`,
    objects: SharedDiscoveryObjectApi.create(configuration, kc),
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    version: new VersionApi(configuration),
    kubeConfig: kc,
    requestCount: () => requests,
    preconnect: () => httpApi.preconnect(),
    close: () => {
      httpApi.close();
      agent.destroy();
    },
  };
}
