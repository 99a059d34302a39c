/**
 * The entry scripts of the two installer images (images/), run for real with bash.
 *
 * - install-packages.sh downloads real .tar.gz packages (built here with the real `tar`) from an
 *   HTTP server this test starts on 127.0.0.1 and installs them into a temporary HOST_ROOT. Its
 *   environment is the one Slipway renders for the Job (renderPackageInstallJob), HOST_ROOT aside.
 * - kud-install.sh runs with test doubles for ansible-playbook, ansible and kubectl on PATH (tiny
 *   shell scripts written below that record their arguments); its environment and inventory are
 *   the ones Slipway renders for the KUD installer Job (renderKudInstaller).
 * - Both pass shellcheck.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BootstrapHost } from '../../src/domain/bootstrap/hosts.js';
import { renderKudInstaller } from '../../src/domain/bootstrap/kud-installer.js';
import { planBootstrap, type BootstrapRequest } from '../../src/domain/bootstrap/request.js';
import { renderPackageInstallJob } from '../../src/services/packages/install-job.js';

const PACKAGE_SCRIPT = fileURLToPath(new URL('../../images/package-installer/install-packages.sh', import.meta.url));
const KUD_SCRIPT = fileURLToPath(new URL('../../images/kud-installer/kud-install.sh', import.meta.url));
const SIGNATURE = 'sig=SECRET123&expires=1700000000';

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
const missing = ['shellcheck', 'curl', 'jq', 'tar', 'gzip'].filter((tool) => !has(tool));
// In CI these are installed by scripts/ensure-test-deps.sh: a missing one is a failure there.
if (missing.length > 0 && process.env.CI === 'true') {
  throw new Error(`CI=true but ${missing.join(', ')} is missing: run scripts/ensure-test-deps.sh`);
}
if (missing.length > 0) console.warn(`${missing.join(', ')} not found: skipping the installer image script tests that need them`);
const hasShellcheck = !missing.includes('shellcheck');
const hasPackageTools = !['curl', 'jq', 'tar', 'gzip'].some((tool) => missing.includes(tool));

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, as the Job's log has them. */
  output: string;
}

function runScript(script: string, env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; output += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; output += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, output }); });
  });
}

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), LANG: 'C.UTF-8', ...extra };
}

function errorLines(run: ScriptRun): string[] {
  return run.output.split('\n').filter((line) => line.startsWith('error:'));
}

let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'slipway-installer-images-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(!hasShellcheck)('shellcheck', () => {
  it.each([['install-packages.sh', PACKAGE_SCRIPT], ['kud-install.sh', KUD_SCRIPT]])('%s passes shellcheck', (_name, script) => {
    const result = spawnSync('shellcheck', ['--shell=bash', script], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe.skipIf(!hasPackageTools)('install-packages.sh against a local package server', () => {
  interface Package { name: string; version: string; archive: Buffer; sha256: string }
  const packages = new Map<string, Buffer>();
  const requests: string[] = [];
  let server: http.Server;
  let base: string;
  let hostRoots: string[] = [];

  /** A real .tar.gz of `files` (path → content; a mode of 0o755 for executables) made by `tar`. */
  async function buildPackage(name: string, version: string, files: Record<string, { content: string; mode?: number }>, tarArgs?: (dir: string) => string[]): Promise<Package> {
    const dir = await mkdtemp(path.join(work, `src-${name}-`));
    const tree = path.join(dir, 'tree');
    await mkdir(tree);
    for (const [file, { content, mode }] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(tree, file)), { recursive: true });
      await writeFile(path.join(tree, file), content, { mode: mode ?? 0o644 });
    }
    const out = path.join(dir, 'package.tar.gz');
    const result = spawnSync('tar', tarArgs ? ['-czPf', out, ...tarArgs(tree)] : ['-czf', out, '-C', tree, '.'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tar failed: ${result.stderr}`);
    const archive = await readFile(out);
    return { name, version, archive, sha256: createHash('sha256').update(archive).digest('hex') };
  }

  function serve(pkg: Package): void {
    packages.set(`/packages/${pkg.name}/${pkg.version}/content`, pkg.archive);
  }

  function problem(res: http.ServerResponse, status: number, detail: string): void {
    res.writeHead(status, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'about:blank', title: status === 403 ? 'Forbidden' : 'Not found', status, detail, code: status === 403 ? 'download_link_invalid' : 'not_found' }));
  }

  /** The Job's environment as Slipway renders it, with HOST_ROOT pointing at `hostRoot`. */
  function jobEnv(list: Package[], hostRoot: string, urlOf: (pkg: Package) => string = (pkg) => `${base}/packages/${pkg.name}/${pkg.version}/content?${SIGNATURE}`, sha256Of: (pkg: Package) => string = (pkg) => pkg.sha256): Record<string, string> {
    const job = renderPackageInstallJob('node-1', Object.fromEntries(list.map((pkg) => [pkg.name, pkg.version])), {
      namespace: 'slipway-system', image: 'slipway/package-installer:test', jobId: 'rollout-1',
      sourceOf: (name, version) => {
        const pkg = list.find((p) => p.name === name && p.version === version);
        if (!pkg) throw new Error(`no package ${name}=${version}`);
        return { url: urlOf(pkg), sha256: sha256Of(pkg) };
      },
    });
    const env = Object.fromEntries((job.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? '']));
    expect(env.HOST_ROOT).toBe('/host');
    return baseEnv({ ...env, HOST_ROOT: hostRoot, TMPDIR: work, DOWNLOAD_RETRIES: '0' });
  }

  async function newHostRoot(): Promise<string> {
    const dir = await mkdtemp(path.join(work, 'host-'));
    hostRoots.push(dir);
    return dir;
  }

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push(url.pathname);
      if (url.pathname.startsWith('/expired/')) return problem(res, 403, 'the download link has expired');
      const body = packages.get(url.pathname);
      if (body === undefined) return problem(res, 404, `no package at ${url.pathname}`);
      if (url.searchParams.get('sig') !== 'SECRET123') return problem(res, 403, 'the download link was altered');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await Promise.all(hostRoots.map((dir) => rm(dir, { recursive: true, force: true })));
    hostRoots = [];
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('installs each package under opt/slipway/packages, runs its install.sh, records it; a second run installs nothing', async () => {
    const hello = await buildPackage('hello', '1.0.0', {
      'bin/hello': { content: '#!/bin/sh\necho hello\n', mode: 0o755 },
      'share/doc/README': { content: 'hello docs\n' },
      'install.sh': {
        mode: 0o755,
        content: '#!/bin/sh\nset -e\nmkdir -p "$HOST_ROOT/etc"\nprintf "%s %s %s %s %s\\n" "$SLIPWAY_PACKAGE_NAME" "$SLIPWAY_PACKAGE_VERSION" "$SLIPWAY_PACKAGE_HOST_DIR" "$(pwd)" "${PACKAGE_SOURCES:-no-sources}" > "$HOST_ROOT/etc/hello.conf"\necho "hello: configured"\n',
      },
    });
    const tools = await buildPackage('tools', '2.3+b1', { 'lib/tool.txt': { content: 'tool\n' } });
    serve(hello);
    serve(tools);
    const hostRoot = await newHostRoot();
    const env = jobEnv([hello, tools], hostRoot);
    expect(env.PACKAGES).toBe('hello=1.0.0 tools=2.3+b1');

    const first = await runScript(PACKAGE_SCRIPT, env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('hello=1.0.0: installed\n');
    expect(first.stdout).toContain('tools=2.3+b1: installed\n');
    expect(first.stdout).toContain('hello: configured');
    expect(first.output).not.toContain('SECRET123');

    const helloDir = path.join(hostRoot, 'opt/slipway/packages/hello/1.0.0');
    expect(await readFile(path.join(helloDir, 'share/doc/README'), 'utf8')).toBe('hello docs\n');
    expect((await stat(path.join(helloDir, 'bin/hello'))).mode & 0o111).not.toBe(0);
    expect(await readFile(path.join(hostRoot, 'opt/slipway/packages/tools/2.3+b1/lib/tool.txt'), 'utf8')).toBe('tool\n');
    // install.sh ran in the package directory, told where it is on the node, without the signed URLs.
    expect(await readFile(path.join(hostRoot, 'etc/hello.conf'), 'utf8')).toBe(`hello 1.0.0 /opt/slipway/packages/hello/1.0.0 ${helloDir} no-sources\n`);
    // Nothing staged is left behind.
    expect(await readdir(path.join(hostRoot, 'opt/slipway/packages/hello'))).toEqual(['1.0.0']);
    const record = await readFile(path.join(hostRoot, 'var/lib/slipway/packages/hello'), 'utf8');
    expect(record).toContain('version=1.0.0\n');
    expect(record).toContain(`sha256=${hello.sha256}\n`);
    expect(await readFile(path.join(hostRoot, 'var/lib/slipway/packages/tools'), 'utf8')).toContain('version=2.3+b1\n');

    const downloads = requests.length;
    const second = await runScript(PACKAGE_SCRIPT, env);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('hello=1.0.0: already installed\ntools=2.3+b1: already installed\n');
    expect(requests.length).toBe(downloads);
  });

  it('refuses a package whose sha256 differs, before touching HOST_ROOT', async () => {
    const pkg = await buildPackage('checked', '1', { 'a.txt': { content: 'a\n' } });
    serve(pkg);
    const hostRoot = await newHostRoot();
    const run = await runScript(PACKAGE_SCRIPT, jobEnv([pkg], hostRoot, undefined, () => 'ab'.repeat(32)));
    expect(run.code).not.toBe(0);
    expect(errorLines(run)).toEqual([`error: checked=1: sha256 mismatch: expected ${'ab'.repeat(32)}, downloaded ${pkg.sha256}; nothing was installed`]);
    expect(await readdir(hostRoot)).toEqual([]);
  });

  it('prints the status and the problem detail of a refused download, and never the signed query', async () => {
    const pkg = await buildPackage('late', '1', { 'a.txt': { content: 'a\n' } });
    const hostRoot = await newHostRoot();
    const run = await runScript(PACKAGE_SCRIPT, jobEnv([pkg], hostRoot, (p) => `${base}/expired/${p.name}/${p.version}/content?${SIGNATURE}`));
    expect(run.code).not.toBe(0);
    const lines = errorLines(run);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`late=1: the download from ${base}/expired/late/1/content was refused: HTTP 403: the download link has expired`);
    expect(run.output).not.toContain('SECRET123');
    expect(run.output).not.toContain('sig=');
    expect(run.output).not.toContain('expires=');
    expect(await readdir(hostRoot)).toEqual([]);

    const absent = await runScript(PACKAGE_SCRIPT, jobEnv([{ ...pkg, name: 'absent' }], hostRoot));
    expect(absent.code).not.toBe(0);
    expect(errorLines(absent)[0]).toContain(`absent=1: the download from ${base}/packages/absent/1/content was refused: HTTP 404: no package at /packages/absent/1/content`);
    expect(absent.output).not.toContain('SECRET123');
  });

  it('refuses an archive with a ../ member or a symbolic link out of the package, leaving nothing behind', async () => {
    const evil = await buildPackage('evil', '1', { 'ok.txt': { content: 'ok\n' }, 'evil.txt': { content: 'evil\n' } }, (tree) => ['-C', path.join(tree), './ok.txt', '../tree/evil.txt']);
    serve(evil);
    const hostRoot = await newHostRoot();
    const run = await runScript(PACKAGE_SCRIPT, jobEnv([evil], hostRoot));
    expect(run.code).not.toBe(0);
    expect(errorLines(run)).toEqual(['error: evil=1: the archive is refused: member ../tree/evil.txt has a .. component']);
    expect(await readdir(hostRoot)).toEqual([]);

    const linkDir = await mkdtemp(path.join(work, 'link-'));
    await writeFile(path.join(linkDir, 'ok.txt'), 'ok\n');
    await symlink('../../../../../../etc/passwd', path.join(linkDir, 'passwd'));
    const archive = path.join(work, 'link.tar.gz');
    expect(spawnSync('tar', ['-czf', archive, '-C', linkDir, '.']).status).toBe(0);
    const bytes = await readFile(archive);
    const linked: Package = { name: 'linked', version: '1', archive: bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    serve(linked);
    const linkRun = await runScript(PACKAGE_SCRIPT, jobEnv([linked], hostRoot));
    expect(linkRun.code).not.toBe(0);
    expect(errorLines(linkRun)).toEqual(['error: linked=1: the archive is refused: the symbolic link passwd points outside the package (../../../../../../etc/passwd)']);
    expect(await readdir(path.join(hostRoot, 'opt/slipway/packages/linked'))).toEqual([]);
    expect(existsSync(path.join(hostRoot, 'var/lib/slipway/packages/linked'))).toBe(false);
  });

  it('removes the package again when its install.sh fails and puts back what was there', async () => {
    const good = await buildPackage('svc', '1', { 'v.txt': { content: 'good\n' } });
    serve(good);
    const hostRoot = await newHostRoot();
    expect((await runScript(PACKAGE_SCRIPT, jobEnv([good], hostRoot))).code).toBe(0);

    // The same version again with other bytes (and so another sha256) whose install.sh fails.
    const bad = await buildPackage('svc', '1', { 'v.txt': { content: 'bad\n' }, 'install.sh': { content: '#!/bin/sh\necho "cannot start svc" >&2\nexit 3\n', mode: 0o755 } });
    serve(bad);
    const run = await runScript(PACKAGE_SCRIPT, jobEnv([bad], hostRoot));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('cannot start svc');
    expect(errorLines(run)).toEqual(['error: svc=1: install.sh failed with exit status 3; the package was removed again']);
    expect(await readFile(path.join(hostRoot, 'opt/slipway/packages/svc/1/v.txt'), 'utf8')).toBe('good\n');
    expect(await readdir(path.join(hostRoot, 'opt/slipway/packages/svc'))).toEqual(['1']);
    expect(await readFile(path.join(hostRoot, 'var/lib/slipway/packages/svc'), 'utf8')).toContain(`sha256=${good.sha256}\n`);
  });

  it.each([
    ['PACKAGE_SOURCES that is not JSON', { PACKAGE_SOURCES: '[{"name": "x",' }, 'error: PACKAGE_SOURCES is not valid JSON: PACKAGE_SOURCES must be a JSON array of {"name", "version", "url", "sha256"}'],
    ['PACKAGE_SOURCES that is not an array', { PACKAGE_SOURCES: '{"name": "x"}' }, 'error: PACKAGE_SOURCES must be a JSON array, not object'],
    ['a source without a url', { PACKAGE_SOURCES: '[{"name": "x", "version": "1", "sha256": "00"}]' }, 'error: PACKAGE_SOURCES[0].url must be a string without control characters'],
    ['a sha256 that is not hex', { PACKAGE_SOURCES: '[{"name": "x", "version": "1", "url": "http://127.0.0.1/x", "sha256": "zz"}]' }, 'error: PACKAGE_SOURCES[0].sha256 must be 64 hex digits'],
    ['a package without a source', { PACKAGES: 'x=1 y=2' }, 'error: PACKAGE_SOURCES has no entry for y=2 (each package needs its url and sha256)'],
    ['a PACKAGES entry without a version', { PACKAGES: 'x' }, 'error: PACKAGES entry "x" must be name=version'],
    ['no HOST_ROOT', { HOST_ROOT: '' }, "error: HOST_ROOT is not set: it must name the node's root filesystem as mounted in this container (/host)"],
    ['a HOST_ROOT that does not exist', { HOST_ROOT: '/nonexistent/host' }, "error: HOST_ROOT /nonexistent/host is not a directory: is the node's root filesystem mounted there?"],
  ])('fails with one clear line on %s', async (_what, override, expected) => {
    const hostRoot = await newHostRoot();
    const valid = { PACKAGES: 'x=1', PACKAGE_SOURCES: JSON.stringify([{ name: 'x', version: '1', url: `${base}/packages/x/1/content?${SIGNATURE}`, sha256: '0'.repeat(64) }]) };
    const run = await runScript(PACKAGE_SCRIPT, baseEnv({ HOST_ROOT: hostRoot, TMPDIR: work, ...valid, ...override }));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`${expected}\n`);
    expect(run.output).not.toContain('SECRET123');
  });
});

describe('kud-install.sh with stand-ins for ansible-playbook, ansible and kubectl', () => {
  const NAMESPACE = 'slipway-bootstrap';
  const SITE: BootstrapHost[] = [
    { name: 'cp-1', address: '10.10.0.11', role: 'control-plane' },
    { name: 'node-1', address: '10.10.0.21', role: 'compute' },
    { name: 'node-2', address: '10.10.0.22', role: 'compute' },
  ];
  const REQUEST: BootstrapRequest = { name: 'edge-a', kubernetesVersion: 'v1.29.3', podSubnet: '10.233.64.0/18', serviceSubnet: '10.233.0.0/18', addons: ['nfd', 'multus'], engine: 'kud-job' };
  // A made-up admin.conf: the key must never reach the log.
  const CLIENT_KEY = 'VE9QLVNFQ1JFVC1DTElFTlQtS0VZ';
  const ADMIN_CONF = `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: RkFLRS1DQQ==\n    server: https://127.0.0.1:6443\n  name: cluster.local\ncontexts:\n- context:\n    cluster: cluster.local\n    user: kubernetes-admin\n  name: kubernetes-admin@cluster.local\ncurrent-context: kubernetes-admin@cluster.local\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: RkFLRS1DRVJU\n    client-key-data: ${CLIENT_KEY}\n`;

  let dir: string;
  let bin: string;
  let kubespray: string;
  let kudPlaybooks: string;

  const STAND_INS: Record<string, string> = {
    'ansible-playbook': `#!/usr/bin/env bash
# Test double for ansible-playbook: records its arguments and KUBECONFIG; fails for the playbook named in STANDIN_FAIL_PLAYBOOK.
set -euo pipefail
# One write per call: stand-ins in one pipeline must not interleave their lines.
line=$({ printf 'ansible-playbook'; printf '\\t%s' "$@"; printf '\\tKUBECONFIG=%s' "\${KUBECONFIG-}"; })
printf '%s\\n' "$line" >>"$STANDIN_LOG"
for arg in "$@"; do
  if [[ -n \${STANDIN_FAIL_PLAYBOOK:-} && $arg == "$STANDIN_FAIL_PLAYBOOK" ]]; then echo 'fatal: [cp-1]: FAILED! => {"msg": "made-up failure"}'; exit 2; fi
done
echo "PLAY RECAP (stand-in)"
`,
    ansible: `#!/usr/bin/env bash
# Test double for ansible (ad-hoc): records its arguments; for -m ansible.builtin.fetch it writes FAKE_ADMIN_CONF where dest= says.
set -euo pipefail
line=$({ printf 'ansible'; printf '\\t%s' "$@"; })
printf '%s\\n' "$line" >>"$STANDIN_LOG"
args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do
  if [[ \${args[i]} == -a ]]; then
    read -r -a words <<<"\${args[i + 1]}"
    for word in "\${words[@]}"; do
      if [[ $word == dest=* ]]; then mkdir -p "$(dirname "\${word#dest=}")"; cp "$FAKE_ADMIN_CONF" "\${word#dest=}"; fi
    done
  fi
done
echo 'cp-1 | CHANGED => {"changed": true}'
`,
    kubectl: `#!/usr/bin/env bash
# Test double for kubectl: records its arguments and KUBECONFIG; "create secret generic" prints the
# Secret as YAML (as kubectl's client-side dry run does); "apply -f -" saves what it reads.
set -euo pipefail
line=$({ printf 'kubectl'; printf '\\t%s' "$@"; printf '\\tKUBECONFIG=%s' "\${KUBECONFIG-<unset>}"; })
# "apply -f -" records once it has read its input, so a create | apply pipeline logs in order.
[[ $1 == apply ]] || printf '%s\\n' "$line" >>"$STANDIN_LOG"
case $1 in
  create)
    name=$4 namespace='' key='' file='' previous=''
    for arg in "$@"; do
      [[ $previous == --namespace ]] && namespace=$arg
      if [[ $arg == --from-file=* ]]; then spec=\${arg#--from-file=}; key=\${spec%%=*}; file=\${spec#*=}; fi
      previous=$arg
    done
    printf 'apiVersion: v1\\nkind: Secret\\nmetadata:\\n  name: %s\\n  namespace: %s\\ndata:\\n  %s: %s\\n' "$name" "$namespace" "$key" "$(base64 -w0 "$file")"
    ;;
  apply)
    cat >"$STANDIN_APPLIED"
    printf '%s\\n' "$line" >>"$STANDIN_LOG"
    echo "secret/stand-in serverside-applied"
    ;;
esac
`,
  };

  interface Call { tool: string; args: string[]; env: string }

  async function calls(): Promise<Call[]> {
    const log = path.join(dir, 'calls.log');
    if (!existsSync(log)) return [];
    return (await readFile(log, 'utf8')).split('\n').filter((line) => line !== '').map((line) => {
      const [tool = '', ...rest] = line.split('\t');
      const last = rest.at(-1) ?? '';
      return last.startsWith('KUBECONFIG=') ? { tool, args: rest.slice(0, -1), env: last } : { tool, args: rest, env: '' };
    });
  }

  /** The Job's environment as Slipway renders it, its paths moved into the test's directory. */
  async function kudEnv(options: { scaleOut?: string[] } = {}): Promise<{ env: Record<string, string>; inventory: string; workDir: string }> {
    const hosts = options.scaleOut ? [...SITE, { name: 'node-3', address: '10.10.0.23', role: 'compute' as const }] : SITE;
    const installer = renderKudInstaller(planBootstrap(REQUEST, hosts), hosts, {
      namespace: NAMESPACE, image: 'slipway/kud-installer:test', jobId: 'job-1', sshKeySecretName: 'edge-a-ssh',
      ...(options.scaleOut ? { scaleOut: options.scaleOut } : {}),
    });
    const rendered = installer.job.spec?.template.spec?.containers[0]?.env ?? [];
    const env: Record<string, string> = {};
    for (const variable of rendered) {
      env[variable.name] = variable.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace' ? NAMESPACE : variable.value ?? '';
    }
    expect(env.KUD_INVENTORY).toBe('/etc/kud/inventory/hosts.ini');
    const inventory = path.join(dir, 'hosts.ini');
    await writeFile(inventory, installer.inventory);
    const key = path.join(dir, 'ssh-privatekey');
    await writeFile(key, 'not a real key\n', { mode: 0o400 });
    const workDir = await mkdtemp(path.join(dir, 'work-'));
    return {
      env: baseEnv({
        ...env,
        KUD_INVENTORY: inventory,
        ANSIBLE_PRIVATE_KEY_FILE: key,
        PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        KUBESPRAY_DIR: kubespray,
        KUD_PLAYBOOKS_DIR: kudPlaybooks,
        KUD_WORK_DIR: workDir,
        KUBECONFIG: '/should/not/be/used',
        STANDIN_LOG: path.join(dir, 'calls.log'),
        STANDIN_APPLIED: path.join(dir, 'applied.yaml'),
        FAKE_ADMIN_CONF: path.join(dir, 'fake-admin.conf'),
      }),
      inventory: installer.inventory,
      workDir,
    };
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(work, 'kud-'));
    bin = path.join(dir, 'bin');
    kubespray = path.join(dir, 'kubespray');
    kudPlaybooks = path.join(dir, 'kud-playbooks');
    await mkdir(bin);
    await mkdir(path.join(kubespray, 'playbooks'), { recursive: true });
    await mkdir(kudPlaybooks);
    for (const [name, content] of Object.entries(STAND_INS)) {
      await writeFile(path.join(bin, name), content);
      await chmod(path.join(bin, name), 0o755);
    }
    for (const file of ['cluster.yml', 'scale.yml', 'playbooks/facts.yml']) await writeFile(path.join(kubespray, file), '---\n');
    for (const addon of ['multus', 'nfd', 'sriov', 'qat']) await writeFile(path.join(kudPlaybooks, `configure-${addon}.yml`), '---\n');
    await writeFile(path.join(dir, 'fake-admin.conf'), ADMIN_CONF);
  });

  afterEach(async () => {
    await rm(path.join(dir, 'calls.log'), { force: true });
    await rm(path.join(dir, 'applied.yaml'), { force: true });
  });

  it('install: cluster.yml with the inventory and variables, admin.conf into the Secret in POD_NAMESPACE, then the add-ons in order', async () => {
    const { env, inventory, workDir } = await kudEnv();
    expect(env.KUD_ADDONS).toBe('multus nfd');
    const run = await runScript(KUD_SCRIPT, env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const seen = await calls();
    expect(seen.map((call) => `${call.tool} ${call.args.find((arg) => arg.endsWith('.yml')) ?? call.args[0] ?? ''}`)).toEqual([
      'ansible-playbook cluster.yml',
      'ansible cp-1',
      'kubectl create',
      'kubectl apply',
      `ansible-playbook ${kudPlaybooks}/configure-multus.yml`,
      `ansible-playbook ${kudPlaybooks}/configure-nfd.yml`,
    ]);
    const [cluster, fetch, create, apply, multus] = seen;
    const copied = path.join(workDir, 'inventory/hosts.ini');
    expect(cluster?.args).toEqual(['-i', copied, '--become', '--become-user=root', '-e', 'kube_version=v1.29.3', '-e', 'kube_pods_subnet=10.233.64.0/18', '-e', 'kube_service_addresses=10.233.0.0/18', 'cluster.yml']);
    expect(await readFile(copied, 'utf8')).toBe(inventory);
    expect(fetch?.args).toEqual(['cp-1', '-i', copied, '--become', '-m', 'ansible.builtin.fetch', '-a', `src=/etc/kubernetes/admin.conf dest=${workDir}/admin.conf flat=yes fail_on_missing=yes`]);
    expect(create?.args.slice(0, 6)).toEqual(['create', 'secret', 'generic', 'edge-a-admin-conf', '--namespace', NAMESPACE]);
    expect(create?.args).toContain('--dry-run=client');
    // The in-cluster ServiceAccount writes the Secret: no KUBECONFIG is passed to kubectl.
    expect(create?.env).toBe('KUBECONFIG=<unset>');
    expect(apply?.args).toEqual(['apply', '--namespace', NAMESPACE, '--server-side', '--force-conflicts', '--field-manager=kud-installer', '-f', '-']);
    expect(apply?.env).toBe('KUBECONFIG=<unset>');
    expect(multus?.env).toBe(`KUBECONFIG=${workDir}/admin.conf`);
    expect(multus?.args.slice(0, 2)).toEqual(['-i', `${workDir}/inventory-addons.ini`]);
    expect(await readFile(`${workDir}/inventory-addons.ini`, 'utf8')).toContain('[kube-node:children]\nkube_node\n');

    const applied = await readFile(path.join(dir, 'applied.yaml'), 'utf8');
    expect(applied).toContain('name: edge-a-admin-conf\n');
    expect(applied).toContain(`namespace: ${NAMESPACE}\n`);
    const data = /\n {2}admin\.conf: (\S+)\n/.exec(applied)?.[1] ?? '';
    // The server on 127.0.0.1 became the control-plane host's address from the inventory.
    expect(Buffer.from(data, 'base64').toString('utf8')).toBe(ADMIN_CONF.replace('https://127.0.0.1:6443', 'https://10.10.0.11:6443'));

    expect(run.output).not.toContain(CLIENT_KEY);
    expect(run.output).not.toContain(data);
    expect(run.stdout).toContain('==> cluster edge-a: install done');
    // The admin.conf does not outlive the run.
    expect(existsSync(path.join(workDir, 'admin.conf'))).toBe(false);
  });

  it('scale: facts on every host, then scale.yml limited to KUD_LIMIT', async () => {
    const { env, workDir } = await kudEnv({ scaleOut: ['node-3'] });
    expect(env.KUD_ACTION).toBe('scale');
    expect(env.KUD_LIMIT).toBe('node-3');
    const run = await runScript(KUD_SCRIPT, env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const playbooks = (await calls()).filter((call) => call.tool === 'ansible-playbook').map((call) => call.args);
    expect(playbooks[0]?.at(-1)).toBe('playbooks/facts.yml');
    expect(playbooks[0]).not.toContain('--limit');
    expect(playbooks[1]?.slice(-3)).toEqual(['--limit', 'node-3', 'scale.yml']);
    expect(playbooks[1]?.slice(0, 2)).toEqual(['-i', path.join(workDir, 'inventory/hosts.ini')]);
    expect(playbooks[2]).toEqual(['-i', `${workDir}/inventory-addons.ini`, '-e', `base_dest=${workDir}/kud`, '--limit', 'node-3,localhost', `${kudPlaybooks}/configure-multus.yml`]);
  });

  it('scale without KUD_LIMIT fails with a clear error before running anything', async () => {
    const { env } = await kudEnv({ scaleOut: ['node-3'] });
    delete env.KUD_LIMIT;
    const run = await runScript(KUD_SCRIPT, env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: KUD_LIMIT is not set: KUD_ACTION=scale needs the new worker nodes, comma separated\n');
    expect(await calls()).toEqual([]);
  });

  it.each(['KUBE_VERSION', 'KUD_INVENTORY', 'KUD_ADMIN_CONF_SECRET', 'POD_NAMESPACE'])('a missing %s fails naming it, before running anything', async (name) => {
    const { env } = await kudEnv();
    delete env[name];
    const run = await runScript(KUD_SCRIPT, env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: ${name} is not set: it must be .+\\n$`));
    expect(await calls()).toEqual([]);
  });

  it('refuses an unknown add-on, and one this image cannot install, before running anything', async () => {
    const { env } = await kudEnv();
    const unknown = await runScript(KUD_SCRIPT, { ...env, KUD_ADDONS: 'multus flannel' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: KUD_ADDONS: unknown add-on "flannel" (known: multus ovn4nfv nfd sriov qat optane cmk kubevirt cdi virtlet)\n');
    const kubevirt = await runScript(KUD_SCRIPT, { ...env, KUD_ADDONS: 'kubevirt' });
    expect(kubevirt.code).toBe(1);
    expect(kubevirt.stderr).toContain('error: KUD_ADDONS: add-on kubevirt is not installable by this image');
    expect(await calls()).toEqual([]);
  });

  it('a failing Kubespray run fails the Job with an error line and writes no Secret', async () => {
    const { env } = await kudEnv();
    const run = await runScript(KUD_SCRIPT, { ...env, STANDIN_FAIL_PLAYBOOK: 'cluster.yml' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('fatal: [cp-1]: FAILED!');
    expect(run.stderr).toBe("error: Kubespray's cluster.yml failed (the lines above say on which host and task)\n");
    expect((await calls()).map((call) => call.tool)).toEqual(['ansible-playbook']);
  });
});
