import { parseDocument } from 'yaml';
import { AppError } from '../errors.js';

/**
 * Kube config sanitising. A user's kube config is untrusted input: a stock client would run its
 * `exec` command, load its auth plugin, read the files it names and route through its proxy — on
 * our server. We accept only inline data, check it, and return a normalised value from which the
 * Kubernetes adapter builds a fresh, minimal client config. The user's text never reaches a client.
 *
 * Only the entries the selected context uses are checked and kept; the rest of the file is
 * discarded unread, so a multi-context file whose *other* users need `exec` is still accepted.
 */

export const MAX_KUBECONFIG_BYTES = 1024 * 1024;
/** Kube configs have no use for YAML aliases; a small cap stops "billion laughs" expansion. */
const MAX_ALIAS_COUNT = 20;

export type KubeAuth =
  | { kind: 'clientCert'; certData: string; keyData: string }
  | { kind: 'token'; token: string }
  | { kind: 'basic'; username: string; password: string };

export interface SafeKubeconfig {
  /** https:// URL without a trailing slash (http:// only when insecure clusters are allowed). */
  server: string;
  /** Base64 PEM, whitespace removed. */
  caData?: string;
  tlsServerName?: string;
  auth: KubeAuth;
  insecureSkipTlsVerify: boolean;
  contextName: string;
  namespace?: string;
}

export interface KubeconfigProblem {
  /** Where in the kube config, e.g. `users[0].user.exec`; `kubeconfig` for the whole document. */
  field: string;
  /** What is wrong and what to do instead; never contains a value from the file. */
  message: string;
}

export class KubeconfigRejectedError extends AppError {
  /** The first problem's field (all of them are in `problems`). */
  readonly field: string;
  readonly problems: readonly KubeconfigProblem[];

  constructor(problems: readonly KubeconfigProblem[]) {
    const lines = problems.map((p) => `${p.field}: ${p.message}`);
    const field = problems[0]?.field ?? 'kubeconfig';
    super('kubeconfig_rejected', 400, `The kube config was rejected: ${lines.join('; ')}`, {
      field,
      problems: lines,
    });
    this.field = field;
    this.problems = problems;
  }
}

export interface KubeconfigOptions {
  /** Allow http:// servers and `insecure-skip-tls-verify: true` (an administrator's choice). */
  allowInsecure: boolean;
}

type Mapping = Record<string, unknown>;

export function parseKubeconfig(text: string, options: KubeconfigOptions): SafeKubeconfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_KUBECONFIG_BYTES) {
    reject('kubeconfig', `is larger than ${MAX_KUBECONFIG_BYTES / 1024} KiB`);
  }
  const root = parseYamlMapping(text);
  const problems: KubeconfigProblem[] = [];
  const lists = readNamedLists(root, problems);
  if (lists === undefined) throw new KubeconfigRejectedError(problems);

  const context = selectContext(root, lists.contexts, problems);
  if (context === undefined) throw new KubeconfigRejectedError(problems);

  const cluster = findNamed(lists.clusters, 'clusters', context.clusterName, `${context.field}.cluster`, problems);
  const user = findNamed(lists.users, 'users', context.userName, `${context.field}.user`, problems);
  const checkedCluster = cluster && checkCluster(cluster.value, `clusters[${cluster.index}].cluster`, options, problems);
  const auth = user && checkUser(user.value, `users[${user.index}].user`, problems);
  if (problems.length > 0 || !checkedCluster || !auth) throw new KubeconfigRejectedError(problems);

  return {
    ...checkedCluster,
    auth,
    contextName: context.name,
    ...(context.namespace !== undefined ? { namespace: context.namespace } : {}),
  };
}

function reject(field: string, message: string): never {
  throw new KubeconfigRejectedError([{ field, message }]);
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function has(map: Mapping, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(map, key);
}

function parseYamlMapping(text: string): Mapping {
  // prettyErrors off: a pretty error quotes the offending source line, which may hold a secret.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const line = text.slice(0, firstError.pos[0]).split('\n').length;
    reject('kubeconfig', `is not valid YAML (${firstError.code} at line ${line})`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error: unknown) {
    if (error instanceof ReferenceError) reject('kubeconfig', 'uses too many YAML aliases');
    reject('kubeconfig', 'is not valid YAML');
  }
  if (!isMapping(value)) {
    reject('kubeconfig', 'is not a kube config: expected a mapping with clusters, users and contexts');
  }
  return value;
}

interface NamedLists {
  clusters: unknown[];
  users: unknown[];
  contexts: unknown[];
}

function readNamedLists(root: Mapping, problems: KubeconfigProblem[]): NamedLists | undefined {
  if (has(root, 'kind') && root.kind !== 'Config') {
    problems.push({ field: 'kind', message: 'must be "Config" in a kube config' });
  }
  const list = (key: string): unknown[] | undefined => {
    const value = root[key];
    if (Array.isArray(value) && value.length > 0) return value;
    problems.push({
      field: key,
      message: has(root, key) ? 'must be a non-empty list' : 'is missing: this is not a kube config',
    });
    return undefined;
  };
  const clusters = list('clusters');
  const users = list('users');
  const contexts = list('contexts');
  if (!clusters || !users || !contexts || problems.length > 0) return undefined;
  return { clusters, users, contexts };
}

interface SelectedContext {
  field: string;
  name: string;
  clusterName: unknown;
  userName: unknown;
  namespace?: string;
}

function selectContext(
  root: Mapping,
  contexts: unknown[],
  problems: KubeconfigProblem[],
): SelectedContext | undefined {
  const current = root['current-context'];
  let index: number;
  if (typeof current === 'string' && current !== '') {
    index = contexts.findIndex((entry) => isMapping(entry) && entry.name === current);
    if (index < 0) {
      problems.push({ field: 'current-context', message: `names context "${current}", which is not in contexts` });
      return undefined;
    }
  } else if (contexts.length === 1) {
    index = 0;
  } else {
    problems.push({
      field: 'current-context',
      message: `is not set and the kube config has ${contexts.length} contexts; set current-context`,
    });
    return undefined;
  }
  const entry = contexts[index];
  const field = `contexts[${index}].context`;
  if (!isMapping(entry) || typeof entry.name !== 'string' || !isMapping(entry.context)) {
    problems.push({ field: `contexts[${index}]`, message: 'must have a name and a context mapping' });
    return undefined;
  }
  const { namespace } = entry.context;
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
    problems.push({ field: `${field}.namespace`, message: 'must be a non-empty string' });
  }
  return {
    field,
    name: entry.name,
    clusterName: entry.context.cluster,
    userName: entry.context.user,
    ...(typeof namespace === 'string' && namespace !== '' ? { namespace } : {}),
  };
}

function findNamed(
  list: unknown[],
  listName: 'clusters' | 'users',
  name: unknown,
  referenceField: string,
  problems: KubeconfigProblem[],
): { index: number; value: Mapping } | undefined {
  if (typeof name !== 'string' || name === '') {
    problems.push({ field: referenceField, message: 'must name an entry of ' + listName });
    return undefined;
  }
  const index = list.findIndex((entry) => isMapping(entry) && entry.name === name);
  if (index < 0) {
    problems.push({ field: referenceField, message: `names "${name}", which is not in ${listName}` });
    return undefined;
  }
  const body = (list[index] as Mapping)[listName === 'clusters' ? 'cluster' : 'user'];
  if (!isMapping(body)) {
    problems.push({ field: `${listName}[${index}]`, message: `must have a ${listName === 'clusters' ? 'cluster' : 'user'} mapping` });
    return undefined;
  }
  return { index, value: body };
}

/** Keys a client would turn into a command, a plugin, a file read or a detour; each says what to use instead. */
const FORBIDDEN_CLUSTER_KEYS: Readonly<Record<string, string>> = {
  'certificate-authority': 'reads a local file; embed the certificate as certificate-authority-data',
  'proxy-url': 'routes traffic through a proxy, which is not allowed; remove it',
};
const FORBIDDEN_USER_KEYS: Readonly<Record<string, string>> = {
  exec: 'runs a command to get credentials, which is not allowed; use a token or a client certificate',
  'auth-provider': 'loads an authentication plugin, which is not allowed; use a token or a client certificate',
  tokenFile: 'reads a local file; put the token inline as token',
  'token-file': 'reads a local file; put the token inline as token',
  'client-certificate': 'reads a local file; embed the certificate as client-certificate-data',
  'client-key': 'reads a local file; embed the key as client-key-data',
  as: 'impersonation is not supported; use the credentials of the identity itself',
  'as-groups': 'impersonation is not supported; use the credentials of the identity itself',
  'as-uid': 'impersonation is not supported; use the credentials of the identity itself',
  'as-user-extra': 'impersonation is not supported; use the credentials of the identity itself',
};
/** Harmless metadata that tools such as minikube write; ignored. */
const IGNORED_KEYS = new Set(['extensions', 'disable-compression']);
const CLUSTER_KEYS = new Set(['server', 'certificate-authority-data', 'tls-server-name', 'insecure-skip-tls-verify']);
const USER_KEYS = new Set(['client-certificate-data', 'client-key-data', 'token', 'username', 'password']);

function checkKeys(
  map: Mapping,
  field: string,
  allowed: ReadonlySet<string>,
  forbidden: Readonly<Record<string, string>>,
  problems: KubeconfigProblem[],
): void {
  for (const key of Object.keys(map)) {
    if (allowed.has(key) || IGNORED_KEYS.has(key)) continue;
    const why = Object.prototype.hasOwnProperty.call(forbidden, key) ? forbidden[key] : undefined;
    problems.push({ field: `${field}.${key}`, message: why ?? 'is not supported' });
  }
}

type CheckedCluster = Pick<SafeKubeconfig, 'server' | 'caData' | 'tlsServerName' | 'insecureSkipTlsVerify'>;

function checkCluster(
  cluster: Mapping,
  field: string,
  options: KubeconfigOptions,
  problems: KubeconfigProblem[],
): CheckedCluster | undefined {
  const before = problems.length;
  checkKeys(cluster, field, CLUSTER_KEYS, FORBIDDEN_CLUSTER_KEYS, problems);
  const server = checkServer(cluster.server, `${field}.server`, options, problems);
  const caData = optionalPem(cluster, 'certificate-authority-data', field, 'CERTIFICATE', problems);
  const tlsServerName = optionalString(cluster, 'tls-server-name', field, problems);
  const insecure = cluster['insecure-skip-tls-verify'];
  if (insecure !== undefined && typeof insecure !== 'boolean') {
    problems.push({ field: `${field}.insecure-skip-tls-verify`, message: 'must be true or false' });
  } else if (insecure === true && !options.allowInsecure) {
    problems.push({
      field: `${field}.insecure-skip-tls-verify`,
      message: 'turns off certificate checks, which this server does not allow; set certificate-authority-data instead',
    });
  }
  if (problems.length > before || server === undefined) return undefined;
  return {
    server,
    insecureSkipTlsVerify: insecure === true,
    ...(caData !== undefined ? { caData } : {}),
    ...(tlsServerName !== undefined ? { tlsServerName } : {}),
  };
}

function checkServer(
  value: unknown,
  field: string,
  options: KubeconfigOptions,
  problems: KubeconfigProblem[],
): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push({ field, message: 'is missing: set the API server URL (https://…)' });
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    problems.push({ field, message: 'is not a URL' });
    return undefined;
  }
  if (url.protocol === 'http:' && !options.allowInsecure) {
    problems.push({ field, message: 'uses http://, which this server does not allow; use https://' });
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push({ field, message: 'must be an https:// URL' });
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    problems.push({ field, message: 'must not contain credentials; put them in the user entry' });
    return undefined;
  }
  if (url.search !== '' || url.hash !== '') {
    problems.push({ field, message: 'must not have a query or fragment' });
    return undefined;
  }
  return url.toString().replace(/\/+$/, '');
}

function checkUser(user: Mapping, field: string, problems: KubeconfigProblem[]): KubeAuth | undefined {
  const before = problems.length;
  checkKeys(user, field, USER_KEYS, FORBIDDEN_USER_KEYS, problems);
  const certData = optionalPem(user, 'client-certificate-data', field, 'CERTIFICATE', problems);
  const keyData = optionalPem(user, 'client-key-data', field, 'PRIVATE KEY', problems);
  const token = optionalString(user, 'token', field, problems);
  const username = optionalString(user, 'username', field, problems);
  const password = optionalString(user, 'password', field, problems);
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    problems.push({ field: `${field}.token`, message: 'must be one line of printable characters' });
  }
  if (username !== undefined && username.includes(':')) {
    problems.push({ field: `${field}.username`, message: 'must not contain ":"' });
  }
  const hasCert = has(user, 'client-certificate-data') || has(user, 'client-key-data');
  const hasBasic = has(user, 'username') || has(user, 'password');
  const kinds = [hasCert, has(user, 'token'), hasBasic].filter(Boolean).length;
  if (kinds > 1) {
    problems.push({
      field,
      message: 'has more than one kind of credential; keep one of: client certificate, token, username and password',
    });
  } else if (kinds === 0 && problems.length === before) {
    problems.push({
      field,
      message: 'has no credentials: set client-certificate-data and client-key-data, or token, or username and password',
    });
  }
  requireBoth(user, field, 'client-certificate-data', 'client-key-data', problems);
  requireBoth(user, field, 'username', 'password', problems);
  if (problems.length > before) return undefined;
  if (certData !== undefined && keyData !== undefined) return { kind: 'clientCert', certData, keyData };
  if (token !== undefined) return { kind: 'token', token };
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  return undefined;
}

function requireBoth(map: Mapping, field: string, a: string, b: string, problems: KubeconfigProblem[]): void {
  if (has(map, a) && !has(map, b)) problems.push({ field: `${field}.${b}`, message: `is missing; ${a} needs it` });
  if (has(map, b) && !has(map, a)) problems.push({ field: `${field}.${a}`, message: `is missing; ${b} needs it` });
}

function optionalString(map: Mapping, key: string, field: string, problems: KubeconfigProblem[]): string | undefined {
  if (!has(map, key)) return undefined;
  const value = map[key];
  if (typeof value === 'string' && value !== '') return value;
  problems.push({ field: `${field}.${key}`, message: 'must be a non-empty string' });
  return undefined;
}

/** Base64 of a PEM block whose label ends with `label` (CERTIFICATE, or … PRIVATE KEY). */
function optionalPem(
  map: Mapping,
  key: string,
  field: string,
  label: string,
  problems: KubeconfigProblem[],
): string | undefined {
  const raw = optionalString(map, key, field, problems);
  if (raw === undefined) return undefined;
  const base64 = raw.replace(/\s+/g, '');
  const pem = /^[A-Za-z0-9+/]+={0,2}$/.test(base64) ? Buffer.from(base64, 'base64').toString('latin1') : '';
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(pem)) {
    problems.push({ field: `${field}.${key}`, message: `must be base64-encoded PEM (a ${label} block)` });
    return undefined;
  }
  return base64;
}
