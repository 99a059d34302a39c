import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubeconfigRejectedError, parseKubeconfig, type KubeconfigProblem } from '../../src/domain/kubeconfig.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const CA = b64('-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n');
const CERT = b64('-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n');
const KEY = b64('-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIfake\n-----END EC PRIVATE KEY-----\n');
const SECURE = { allowInsecure: false };

interface ConfigParts {
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  context?: Record<string, unknown>;
  root?: Record<string, unknown>;
}

/** A one-context kube config; `parts` replace or extend its entries. */
function kubeconfig(parts: ConfigParts = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'main',
    clusters: [{ name: 'c1', cluster: { server: 'https://k8s.example.org:6443/', 'certificate-authority-data': CA, ...parts.cluster } }],
    users: [{ name: 'u1', user: parts.user ?? { 'client-certificate-data': CERT, 'client-key-data': KEY } }],
    contexts: [{ name: 'main', context: { cluster: 'c1', user: 'u1', ...parts.context } }],
    ...parts.root,
  });
}

function rejection(text: string, options = SECURE): KubeconfigRejectedError {
  try {
    parseKubeconfig(text, options);
  } catch (error: unknown) {
    if (error instanceof KubeconfigRejectedError) return error;
    throw error;
  }
  throw new Error('expected the kube config to be rejected');
}

const fields = (problems: readonly KubeconfigProblem[]): string[] => problems.map((p) => p.field);

describe('parseKubeconfig accepts inline credentials', () => {
  it('normalises a client-certificate config', () => {
    const safe = parseKubeconfig(kubeconfig({ context: { namespace: 'team-a' }, cluster: { 'tls-server-name': 'api' } }), SECURE);
    expect(safe).toEqual({
      server: 'https://k8s.example.org:6443',
      caData: CA,
      tlsServerName: 'api',
      auth: { kind: 'clientCert', certData: CERT, keyData: KEY },
      insecureSkipTlsVerify: false,
      contextName: 'main',
      namespace: 'team-a',
    });
  });

  it('accepts a token and a username/password pair', () => {
    expect(parseKubeconfig(kubeconfig({ user: { token: 'abc.def' } }), SECURE).auth).toEqual({ kind: 'token', token: 'abc.def' });
    expect(parseKubeconfig(kubeconfig({ user: { username: 'admin', password: 'pw' } }), SECURE).auth).toEqual({
      kind: 'basic',
      username: 'admin',
      password: 'pw',
    });
  });

  it('uses the current context and ignores entries it does not reference, even dangerous ones', () => {
    const text = stringify({
      'current-context': 'second',
      clusters: [
        { name: 'a', cluster: { server: 'https://a.example', 'proxy-url': 'http://proxy' } },
        { name: 'b', cluster: { server: 'https://b.example' } },
      ],
      users: [
        { name: 'eks', user: { exec: { command: 'aws' } } },
        { name: 'plain', user: { token: 't0k' } },
      ],
      contexts: [
        { name: 'first', context: { cluster: 'a', user: 'eks' } },
        { name: 'second', context: { cluster: 'b', user: 'plain' } },
      ],
    });
    const safe = parseKubeconfig(text, SECURE);
    expect(safe.server).toBe('https://b.example');
    expect(safe.contextName).toBe('second');
    expect(safe.auth).toEqual({ kind: 'token', token: 't0k' });
  });

  it('uses the only context when current-context is unset', () => {
    expect(parseKubeconfig(kubeconfig({ root: { 'current-context': undefined } }), SECURE).contextName).toBe('main');
  });

  it('ignores harmless metadata such as minikube extensions', () => {
    const safe = parseKubeconfig(kubeconfig({ cluster: { extensions: [{ name: 'cluster_info', extension: { provider: 'minikube' } }] } }), SECURE);
    expect(safe.server).toBe('https://k8s.example.org:6443');
  });

  it('allows http:// and insecure-skip-tls-verify only when insecure clusters are allowed', () => {
    const text = kubeconfig({ cluster: { server: 'http://10.0.0.1:8080', 'insecure-skip-tls-verify': true } });
    const safe = parseKubeconfig(text, { allowInsecure: true });
    expect(safe.server).toBe('http://10.0.0.1:8080');
    expect(safe.insecureSkipTlsVerify).toBe(true);
    expect(fields(rejection(text).problems)).toEqual([
      'clusters[0].cluster.server',
      'clusters[0].cluster.insecure-skip-tls-verify',
    ]);
  });
});

describe('parseKubeconfig rejects what would run a command, read a file or weaken TLS', () => {
  const userCases: Array<[string, Record<string, unknown>]> = [
    ['exec', { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: '/bin/sh' } }],
    ['auth-provider', { 'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh' } } }],
    ['tokenFile', { tokenFile: '/var/run/secrets/token' }],
    ['token-file', { 'token-file': '/var/run/secrets/token' }],
    ['client-certificate', { 'client-certificate': '/etc/passwd', 'client-key-data': KEY }],
    ['client-key', { 'client-certificate-data': CERT, 'client-key': '/etc/shadow' }],
    ['as', { token: 'x', as: 'system:admin' }],
  ];
  it.each(userCases)('users[0].user.%s', (key, user) => {
    const error = rejection(kubeconfig({ user }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('kubeconfig_rejected');
    expect(error.field).toBe(`users[0].user.${key}`);
    expect(fields(error.problems)).toContain(`users[0].user.${key}`);
  });

  const clusterCases: Array<[string, Record<string, unknown>]> = [
    ['certificate-authority', { 'certificate-authority': '/etc/ssl/ca.pem' }],
    ['proxy-url', { 'proxy-url': 'socks5://attacker:1080' }],
    ['insecure-skip-tls-verify', { 'insecure-skip-tls-verify': true }],
    ['unknown-key', { 'unknown-key': 'x' }],
  ];
  it.each(clusterCases)('clusters[0].cluster.%s', (key, cluster) => {
    expect(rejection(kubeconfig({ cluster })).field).toBe(`clusters[0].cluster.${key}`);
  });

  it.each([
    ['http://k8s.example.org', /http:\/\//],
    ['ftp://k8s.example.org', /https:\/\//],
    ['https://admin:pw@k8s.example.org', /credentials/],
    ['not a url', /not a URL/],
  ])('server %s', (server, message) => {
    const error = rejection(kubeconfig({ cluster: { server } }));
    expect(error.field).toBe('clusters[0].cluster.server');
    expect(error.problems[0]?.message).toMatch(message);
  });

  it('a missing server', () => {
    const text = stringify({
      clusters: [{ name: 'c', cluster: { 'certificate-authority-data': CA } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    });
    expect(rejection(text).field).toBe('clusters[0].cluster.server');
  });
});

describe('parseKubeconfig rejects what is not a usable kube config', () => {
  it('text that is not YAML', () => {
    const error = rejection('clusters: [unclosed\n  token: "abc');
    expect(error.field).toBe('kubeconfig');
    expect(error.message).toMatch(/not valid YAML/);
  });

  it.each(['- a list', 'just a string', '42'])('a YAML document that is not a mapping: %s', (text) => {
    expect(rejection(text).field).toBe('kubeconfig');
  });

  it('a mapping without clusters, users and contexts, naming each', () => {
    expect(fields(rejection('apiVersion: v1\nkind: Config\n').problems)).toEqual(['clusters', 'users', 'contexts']);
  });

  it('a kind other than Config', () => {
    expect(rejection(kubeconfig({ root: { kind: 'Secret' } })).field).toBe('kind');
  });

  it('current-context naming a missing context', () => {
    const error = rejection(kubeconfig({ root: { 'current-context': 'elsewhere' } }));
    expect(error.field).toBe('current-context');
    expect(error.message).toContain('"elsewhere"');
  });

  it('several contexts and no current-context', () => {
    const text = kubeconfig({
      root: {
        'current-context': undefined,
        contexts: [
          { name: 'a', context: { cluster: 'c1', user: 'u1' } },
          { name: 'b', context: { cluster: 'c1', user: 'u1' } },
        ],
      },
    });
    expect(rejection(text).field).toBe('current-context');
  });

  it('a context naming a missing cluster and a missing user', () => {
    const error = rejection(kubeconfig({ context: { cluster: 'nope', user: 'nobody' } }));
    expect(fields(error.problems)).toEqual(['contexts[0].context.cluster', 'contexts[0].context.user']);
  });

  it('a file over 1 MiB', () => {
    const text = kubeconfig() + `# ${'x'.repeat(1024 * 1024)}\n`;
    const error = rejection(text);
    expect(error.field).toBe('kubeconfig');
    expect(error.message).toMatch(/larger than 1024 KiB/);
  });

  it('a YAML alias bomb', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`${next}: &${next} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`);
    }
    const error = rejection(lines.join('\n'));
    expect(error.field).toBe('kubeconfig');
    expect(error.message).toMatch(/aliases/);
  });

  it('a user without any credentials', () => {
    const error = rejection(kubeconfig({ user: {} }));
    expect(error.field).toBe('users[0].user');
    expect(error.message).toMatch(/no credentials/);
  });

  it('more than one kind of credential', () => {
    expect(rejection(kubeconfig({ user: { token: 'a', username: 'b', password: 'c' } })).field).toBe('users[0].user');
  });

  it('a certificate without its key', () => {
    expect(rejection(kubeconfig({ user: { 'client-certificate-data': CERT } })).field).toBe('users[0].user.client-key-data');
  });

  it('data fields that are not base64 PEM', () => {
    const error = rejection(kubeconfig({ cluster: { 'certificate-authority-data': 'not base64!' }, user: { 'client-certificate-data': b64('hello'), 'client-key-data': CERT } }));
    expect(fields(error.problems)).toEqual([
      'clusters[0].cluster.certificate-authority-data',
      'users[0].user.client-certificate-data',
      'users[0].user.client-key-data',
    ]);
  });

  it('reports every problem at once, each naming its field', () => {
    const error = rejection(
      kubeconfig({
        cluster: { server: 'http://k8s.example.org', 'proxy-url': 'http://p' },
        user: { exec: { command: 'x' }, tokenFile: '/t' },
      }),
    );
    expect(fields(error.problems).sort()).toEqual([
      'clusters[0].cluster.proxy-url',
      'clusters[0].cluster.server',
      'users[0].user.exec',
      'users[0].user.tokenFile',
    ]);
    expect(error.extra.problems).toHaveLength(4);
  });
});

describe('rejection messages never carry secret values', () => {
  it('for any token, password or key in a rejected file', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{20,40}$/), (secret) => {
        const texts = [
          kubeconfig({ user: { token: secret, exec: { command: secret } }, cluster: { 'proxy-url': `http://${secret}` } }),
          kubeconfig({ user: { username: 'u', password: secret, token: secret } }),
          kubeconfig({ cluster: { server: `https://user:${secret}@host` }, user: { 'client-certificate-data': secret, 'client-key-data': secret } }),
          `clusters: [\n  token: ${secret} ]]`,
        ];
        for (const text of texts) {
          const error = rejection(text);
          expect(`${error.message} ${JSON.stringify(error.extra)}`).not.toContain(secret);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('a malicious kube config never gets to run or read anything', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-kubeconfig-'));
    dirs.push(dir);
    return dir;
  };

  /** An exec credential plugin that leaves a marker file when it runs. */
  function execTrap(): { text: string; marker: string } {
    const dir = tempDir();
    const marker = path.join(dir, 'executed');
    const script = path.join(dir, 'credential-plugin.sh');
    writeFileSync(
      script,
      `#!/bin/sh\ntouch '${marker}'\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'\n`,
    );
    chmodSync(script, 0o755);
    const user = { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: script, interactiveMode: 'Never' } };
    return { text: kubeconfig({ user }), marker };
  }

  it('control: a stock client runs the exec plugin of this kube config', async () => {
    const trap = execTrap();
    const stock = new KubeConfig();
    stock.loadFromString(trap.text);
    await stock.applyToFetchOptions({});
    expect(existsSync(trap.marker)).toBe(true);
  });

  it('parseKubeconfig rejects it and the plugin never runs', () => {
    const trap = execTrap();
    expect(rejection(trap.text).field).toBe('users[0].user.exec');
    expect(existsSync(trap.marker)).toBe(false);
  });

  /**
   * A FIFO with a writer waiting to hand over one payload. Whoever opens it for reading takes the
   * payload; afterwards `payloadStillThere` reads it from a separate process (bounded by a timeout,
   * so a consumed payload fails the test instead of hanging it). Deterministic: a synchronous read
   * runs to EOF, so by the time the code under test returns the payload is either whole or gone.
   */
  function fifoTrap(): { file: string; payloadStillThere: () => boolean } {
    const dir = tempDir();
    const file = path.join(dir, 'credential.pem');
    execFileSync('mkfifo', [file]);
    children.push(spawn('sh', ['-c', `printf PAYLOAD > '${file}'`], { stdio: 'ignore' }));
    const payloadStillThere = (): boolean => {
      try {
        return execFileSync('cat', [file], { timeout: 1500, encoding: 'utf8' }) === 'PAYLOAD';
      } catch {
        return false;
      }
    };
    return { file, payloadStillThere };
  }

  it('control: a stock client reads the file a kube config names', async () => {
    const trap = fifoTrap();
    const stock = new KubeConfig();
    stock.loadFromString(kubeconfig({ user: { 'client-certificate': trap.file, 'client-key-data': KEY } }));
    await stock.applyToFetchOptions({});
    expect(trap.payloadStillThere()).toBe(false);
  });

  it.each([
    ['client-certificate', (file: string) => ({ user: { 'client-certificate': file, 'client-key-data': KEY } })],
    ['client-key', (file: string) => ({ user: { 'client-certificate-data': CERT, 'client-key': file } })],
    ['tokenFile', (file: string) => ({ user: { tokenFile: file } })],
    ['token-file', (file: string) => ({ user: { 'token-file': file } })],
    ['certificate-authority', (file: string) => ({ cluster: { 'certificate-authority': file } })],
  ] as const)('parseKubeconfig rejects %s pointing at a local file and never opens it', (key, parts) => {
    const trap = fifoTrap();
    const error = rejection(kubeconfig(parts(trap.file)));
    expect(fields(error.problems).some((field) => field.endsWith(`.${key}`))).toBe(true);
    expect(trap.payloadStillThere()).toBe(true);
  });
});
