import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage, shouldRunBrowserTests, type WatchedPage } from '../support/browser.js';

/**
 * The README's first steps, followed literally in Debian's Chromium: `npm start` (embedded
 * PostgreSQL, development secret, nothing configured but a free port on 127.0.0.1 and a data
 * folder of this test's own), `npm run try-cluster` in the same data folder (the real control
 * plane where Go builds it, else the fake API server; TEST DOUBLES play the orchestrator either
 * way, as the README says), then open the printed URL, pick
 * *Slipway Example Pipeline*, upload the kube config try-cluster wrote, deploy, and see
 * `succeeded` with the web UI links — and the deployment on the deployments page.
 */
const ROOT = new URL('../..', import.meta.url).pathname;
const TEST_TIMEOUT_MS = 150_000;

/** The environment a new user has: none of Slipway's settings (the test runner's own are dropped). */
function userEnvironment(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'npm_config_cache']) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
}

interface Started {
  child: ChildProcess;
  output: string[];
  /** The first stdout line matching `pattern`. */
  line: Promise<string>;
}

/** `npm run <script>` in its own process group (npm starts node below it), read line by line. */
function npm(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Started {
  const child = spawn('npm', args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const line = new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (text) => {
      output.push(text);
      if (pattern.test(text)) resolve(text);
    });
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`npm ${args.join(' ')} exited with ${code} before printing ${pattern}:\n${output.join('\n')}`)));
  });
  return { child, output, line };
}

async function stop(started: Started | undefined): Promise<void> {
  const child = started?.child;
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const group = child.pid;
  process.kill(-group, 'SIGTERM');
  const timer = setTimeout(() => process.kill(-group, 'SIGKILL'), 30_000);
  await exited;
  // npm may exit before the program below it has finished stopping (a control plane, PostgreSQL):
  // wait for the whole process group.
  while (groupAlive(group)) await new Promise((resolve) => setTimeout(resolve, 100));
  clearTimeout(timer);
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

let dataDir: string;
let service: Started | undefined;
let cluster: Started | undefined;
let browser: Browser | undefined;
let watched: WatchedPage | undefined;

describe.runIf(shouldRunBrowserTests())("the README's first steps in Chromium", () => {
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-readme-'));
    service = npm(['start'], userEnvironment(dataDir), /^Open: /);
    cluster = npm(['run', 'try-cluster'], userEnvironment(dataDir), /^Ctrl-C/);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await watched?.context.close();
    await browser?.close();
    await stop(cluster);
    await stop(service);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it(
    'opens the printed URL, deploys the example to the try-cluster and finds it again on the deployments page',
    async () => {
      const printed = (await service?.line)?.replace(/^Open: /, '') ?? '';
      expect(printed).toMatch(/^http:\/\/localhost:\d+\/\?jwtToken=[\w.-]+$/);
      await cluster?.line;
      const kubeconfig = path.join(dataDir, 'try-cluster.kubeconfig');
      expect((await stat(kubeconfig)).mode & 0o777).toBe(0o600);
      // Callbacks work without extra setup: the embedded setup made its signing key.
      expect((await stat(path.join(dataDir, 'callback-secret'))).mode & 0o777).toBe(0o600);

      if (!browser) throw new Error('Chromium did not start');
      watched = await openPage(browser);
      const { page } = watched;
      await page.goto(printed);
      const example = page.locator('tr', { hasText: 'Slipway Example Pipeline' });
      await example.getByRole('link', { name: 'Deploy' }).click();
      await page.waitForURL(/\/deploy\/slipway-example-pipeline\/1\.0\.0$/);
      await page.locator('#configFile').setInputFiles(kubeconfig);
      await page.getByRole('button', { name: 'Deploy' }).click();

      await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
      await page.locator('#status[data-status="succeeded"]').waitFor({ timeout: 90_000 });
      const links = await Promise.all((await page.locator('#services a').all()).map((anchor) => anchor.getAttribute('href')));
      expect(links.length).toBeGreaterThan(0);
      for (const link of links) expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3\d{4}$/);
      const id = new URL(page.url()).pathname.split('/').pop() ?? '';

      await page.getByRole('navigation').getByRole('link', { name: 'Deployments' }).click();
      const row = page.locator(`tr[data-deployment="${id}"]`);
      await expect(row.locator('[data-status]').getAttribute('data-status')).resolves.toBe('succeeded');
      await expect(row.textContent()).resolves.toContain('Slipway Example Pipeline');
      expect(watched.errors).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
