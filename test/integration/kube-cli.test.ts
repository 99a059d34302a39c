import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { realKubeUnavailable } from '../support/real-kube.js';

/**
 * `npm run kube:up -- --dir <dir>` and `npm run kube:down -- --dir <dir>` exactly as the README
 * and issue 13 have a new user type them: the kube config works with the real kubectl, the kwok
 * Nodes are Ready, and kube:down leaves no process of that folder behind.
 */
const run = promisify(execFile);
const unavailable = realKubeUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI=true but the real control plane cannot run: ${unavailable}`);
if (unavailable) console.warn(`Skipping the kube:up/kube:down test: ${unavailable}`);

/** Processes whose command line names `dir` (etcd, kube-apiserver … all take their files from it). */
async function processesOf(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const words = cmdline.split('\0').filter(Boolean);
    if (words.some((word) => word.includes(dir)) && !words.some((word) => word.includes('kube-cli.test'))) found.push(`${entry} ${words.slice(0, 2).join(' ')}`);
  }
  return found;
}

describe.runIf(!unavailable)('npm run kube:up / kube:down', () => {
  let dir = '';
  afterAll(async () => {
    if (dir === '') return;
    await run('npm', ['run', '--silent', 'kube:down', '--', '--dir', dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a control plane the real kubectl uses, three kwok Nodes Ready, and stops every process it started', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-kube-cli-'));
    const up = await run('npm', ['run', '--silent', 'kube:up', '--', '--dir', dir], { timeout: 240_000 });
    expect(up.stdout).toContain(`${dir}/kubeconfig`);
    expect((await stat(path.join(dir, 'kubeconfig'))).mode & 0o777).toBe(0o600);

    const kubectl = path.join(dir, 'bin', 'kubectl');
    const nodes = await run(kubectl, ['--kubeconfig', path.join(dir, 'kubeconfig'), 'get', 'nodes', '--no-headers'], {
      env: { ...process.env, KUBECACHEDIR: path.join(dir, 'kubectl-cache') },
    });
    const rows = nodes.stdout.trim().split('\n').map((line) => line.split(/\s+/));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row[1]).toBe('Ready');
    const running = await processesOf(dir);
    // etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok at least.
    expect(running.length).toBeGreaterThanOrEqual(5);

    const down = await run('npm', ['run', '--silent', 'kube:down', '--', '--dir', dir], { timeout: 120_000 });
    expect(down.stdout).toContain('Stopped the control plane');
    expect(await processesOf(dir)).toEqual([]);
  });
});
