/**
 * The real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC and the default
 * admission plugins on), kube-controller-manager and kube-scheduler built from the pinned Go
 * modules of tools/kube (scripts/kube-build.sh, cached per machine), with kwok as the kubelets of
 * three Nodes whose InternalIP is 127.0.0.1 — started and stopped by tools/kube/cluster.sh
 * (kwokctl's binary runtime; tools/kube/README.md has the recipe and the figures).
 *
 * A control plane lives in a folder of its own: `<dir>/kubeconfig` (cluster admin, inline
 * certificate data, mode 0600), `<dir>/bin` (a link to the built binaries: `<dir>/bin/kubectl`),
 * `<dir>/kwok` (kwokctl's work folder: certificates, logs, pid files). `npm run kube:up` /
 * `kube:down`, `npm run try-cluster` and the test suite all start it here.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, realpath, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLUSTER_SCRIPT = path.join(ROOT, 'tools/kube/cluster.sh');
const BUILD_SCRIPT = path.join(ROOT, 'scripts/kube-build.sh');
const NAME = 'slipway';

export interface ControlPlane {
  dir: string;
  /** Cluster-admin kube config with inline certificate data. */
  kubeconfig: string;
  kubeconfigFile: string;
  /** https://127.0.0.1:<port> */
  server: string;
  binDir: string;
  /** Runs the real kubectl against this control plane; resolves with its stdout. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /** A kube config with inline data for another identity (RBAC tests): a client certificate kwokctl signs. */
  kubeconfigFor(user: string, groups?: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Why the real control plane cannot run here (no Go toolchain), or undefined when it can. */
export function realKubeUnavailable(): string | undefined {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) return 'no Go toolchain (`go version` fails): the real control plane builds from Go modules (tools/kube)';
  return undefined;
}

/** The folder of the built binaries: built once per machine (minutes), then found in seconds. */
export async function kubeBinDir(): Promise<string> {
  const { stdout } = await run('bash', [BUILD_SCRIPT], { maxBuffer: 16 * 1024 * 1024, timeout: 45 * 60_000 });
  const dir = stdout.trim().split('\n').at(-1) ?? '';
  if (!path.isAbsolute(dir)) throw new Error(`scripts/kube-build.sh printed no binary folder: ${stdout}`);
  return dir;
}

function clusterEnv(dir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const workdir = path.join(dir, 'kwok');
  return { ...process.env, SLIPWAY_KUBE_WORKDIR: workdir, KWOK_WORKDIR: workdir, ...extra };
}

export interface StartOptions {
  /** kwok Nodes (default 3). */
  nodes?: number;
  /** kube-apiserver --goaway-chance (at most 0.02, the apiserver's limit). */
  goawayChance?: number;
}

export async function startControlPlane(dir: string, options: StartOptions = {}): Promise<ControlPlane> {
  const absolute = path.resolve(dir);
  await mkdir(absolute, { recursive: true });
  const binDir = await kubeBinDir();
  const env = clusterEnv(absolute, {
    SLIPWAY_KUBE_NODES: String(options.nodes ?? 3),
    ...(options.goawayChance !== undefined ? { SLIPWAY_KUBE_GOAWAY_CHANCE: String(options.goawayChance) } : {}),
  });
  try {
    await run('bash', [CLUSTER_SCRIPT, 'up', NAME], { env, maxBuffer: 16 * 1024 * 1024, timeout: 180_000 });
  } catch (error: unknown) {
    const stderr = typeof error === 'object' && error !== null && 'stderr' in error ? String((error as { stderr: unknown }).stderr) : '';
    await stopControlPlane(absolute).catch(() => undefined);
    throw new Error(`the control plane did not start: ${stderr || String(error)}`);
  }
  try {
    return await describe(absolute, binDir, env);
  } catch (error: unknown) {
    await stopControlPlane(absolute).catch(() => undefined);
    throw error;
  }
}

async function describe(absolute: string, binDir: string, env: NodeJS.ProcessEnv, existing?: string): Promise<ControlPlane> {
  const kwokctl = path.join(binDir, 'kwokctl');
  const kubeconfigFor = async (user: string, groups: readonly string[] = []): Promise<string> => {
    const args = ['get', 'kubeconfig', '--name', NAME, ...(user === 'kwok-admin' ? [] : ['--user', user, ...groups.flatMap((g) => ['--group', g])])];
    return (await run(kwokctl, args, { env })).stdout;
  };
  const kubeconfigFile = path.join(absolute, 'kubeconfig');
  const kubeconfig = existing ?? (await kubeconfigFor('kwok-admin'));
  if (existing === undefined) {
    await writeFile(kubeconfigFile, kubeconfig, { mode: 0o600 });
    await chmod(kubeconfigFile, 0o600);
    const link = path.join(absolute, 'bin');
    await unlink(link).catch(() => undefined);
    await symlink(binDir, link);
  }
  const server = /server:\s*(\S+)/.exec(kubeconfig)?.[1] ?? '';
  const kubectl = async (args: readonly string[], input?: string): Promise<string> => {
    const child = run(path.join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigFile, ...args], { env: { ...process.env, KUBECACHEDIR: path.join(absolute, 'kubectl-cache') }, maxBuffer: 16 * 1024 * 1024 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    return (await child).stdout;
  };
  return { dir: absolute, kubeconfig, kubeconfigFile, server, binDir, kubectl, kubeconfigFor, stop: () => stopControlPlane(absolute) };
}

/** Stops every process the control plane in `dir` started, and removes what it wrote there. */
export async function stopControlPlane(dir: string): Promise<void> {
  const absolute = path.resolve(dir);
  await run('bash', [CLUSTER_SCRIPT, 'down', NAME], { env: clusterEnv(absolute, {}), timeout: 60_000 });
  await rm(path.join(absolute, 'kwok'), { recursive: true, force: true });
  await rm(path.join(absolute, 'kubectl-cache'), { recursive: true, force: true });
}

/**
 * The control plane another process started in `dir` (the test run's, from global setup): the same
 * handle, without owning it — `stop` is left to the one that started it.
 */
export async function attachControlPlane(dir: string): Promise<ControlPlane> {
  const absolute = path.resolve(dir);
  const binDir = await realpath(path.join(absolute, 'bin'));
  const plane = await describe(absolute, binDir, clusterEnv(absolute, {}), await readFile(path.join(absolute, 'kubeconfig'), 'utf8'));
  return { ...plane, stop: async () => undefined };
}
