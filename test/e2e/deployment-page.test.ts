import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { countNavigations, launchBrowser, openPage, shouldRunBrowserTests, type WatchedPage } from '../support/browser.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startFakeOrchestrator, type FakeOrchestrator } from '../support/fake-orchestrator.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { connectOrchestrator } from '../../src/adapters/orchestrator/client.js';

/**
 * The Graphene deploy form and the live deployment page in headless Chromium, against the whole
 * service (real PostgreSQL, workers, the real Kubernetes client against the fake API server, the
 * fake orchestrator) listening on 127.0.0.1. The bundled example pipeline is the solution.
 *
 * Where a test needs to see a deployment in progress, it holds it with an image pull fault of the
 * fake cluster and releases the fault once the page shows the wait — so the page is seen before
 * and after without depending on how fast anything runs.
 *
 * Screenshots of the pages go to a temporary folder removed afterwards; set E2E_SCREENSHOTS to a
 * folder to keep them and look at them.
 */
const EXAMPLE = { solutionId: 'slipway-example-pipeline', revisionId: '1.0.0' };
/** Each test waits at most 30 s for the service; this bounds it as a whole. */
const TEST_TIMEOUT_MS = 45_000;
const WEB_UI = /^http:\/\/192\.0\.2\.10:\d+$/;

/** Records every status and progress value the page shows, from its first draw on (installed before the page's script runs). */
const RECORDER = `
  window.__seen = { status: [], progress: [] };
  document.addEventListener('DOMContentLoaded', function () {
    var status = document.getElementById('status'), bar = document.getElementById('progress');
    if (!status || !bar) return;
    var seen = window.__seen;
    function record() {
      var s = status.getAttribute('data-status'), v = Number(bar.value);
      if (seen.status[seen.status.length - 1] !== s) seen.status.push(s);
      if (seen.progress[seen.progress.length - 1] !== v) seen.progress.push(v);
    }
    record();
    new MutationObserver(record).observe(status, { attributes: true });
    new MutationObserver(record).observe(bar, { attributes: true });
  });
`;

interface Seen {
  status: string[];
  progress: number[];
}

interface DeploymentBody {
  id: string;
  status: string;
  services: Array<{ name: string; webUiUrl?: string }>;
}

let kube: FakeKube;
let orchestrator: FakeOrchestrator;
let stack: TestStack;
let browser: Browser | undefined;
let baseUrl: string;
let token: string;
let workDir: string;
let kubeconfigFile: string;
const pages: WatchedPage[] = [];

describe.runIf(shouldRunBrowserTests())('the deployment pages in Chromium', () => {
  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-e2e-'));
    kube = await startFakeKube({ nodes: [{ name: 'node-1', internalIP: '10.0.0.11', externalIP: '192.0.2.10' }] });
    orchestrator = await startFakeOrchestrator();
    // The fake cluster's node ports are not reachable: every orchestrator address goes to the fake orchestrator.
    stack = await startTestStack({ SOLUTION_SOURCE: 'local', DEPLOY_TIMEOUT: '30s' }, { connectOrchestrator: () => connectOrchestrator(orchestrator.address, { timeoutMs: 5000 }) });
    baseUrl = await stack.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    token = await stack.token();
    kubeconfigFile = path.join(workDir, 'kubeconfig.yaml');
    await writeFile(kubeconfigFile, kube.kubeconfig, { mode: 0o600 });
    browser = await launchBrowser();
  });

  afterEach(async () => {
    kube.faults.clear();
    for (const watched of pages.splice(0)) await watched.context.close();
  });

  // The browser first: an open event stream would keep the HTTP server from closing.
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await orchestrator?.close();
    await kube?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function newPage(options: { javaScriptEnabled?: boolean } = {}): Promise<WatchedPage> {
    if (!browser) throw new Error('Chromium did not start');
    const watched = await openPage(browser, options);
    await watched.context.addInitScript(RECORDER);
    pages.push(watched);
    return watched;
  }

  async function deployThroughApi(namespace: string): Promise<string> {
    const response = await fetch(`${baseUrl}/api/v1/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...EXAMPLE, namespace, kubeconfig: kube.kubeconfig }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as DeploymentBody).id;
  }

  async function readDeployment(id: string): Promise<DeploymentBody> {
    const response = await fetch(`${baseUrl}/api/v1/deployments/${id}`, { headers: { authorization: `Bearer ${token}` } });
    return (await response.json()) as DeploymentBody;
  }

  const statusPage = (id: string) => `${baseUrl}/deployments/${id}?jwtToken=${encodeURIComponent(token)}`;
  const stepStatus = (page: Page, step: string) => page.locator(`#steps tr[data-step="${step}"] td[data-status]`);
  const shownStatus = (page: Page) => page.locator('#status').getAttribute('data-status');

  async function seen(page: Page): Promise<Seen> {
    const value = await page.evaluate('JSON.stringify(window.__seen)');
    return JSON.parse(String(value)) as Seen;
  }

  /** Waits until the held deployment is visibly waiting for readiness. */
  async function waitForHeldReadiness(page: Page): Promise<void> {
    await expect.poll(() => stepStatus(page, 'wait for readiness').getAttribute('data-status'), { timeout: 20_000 }).toBe('running');
    expect(await shownStatus(page)).toBe('running');
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    const dir = process.env.E2E_SCREENSHOTS ?? workDir;
    await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  }

  it('deploys from the Graphene form with an uploaded kube config file and shows the result live', async () => {
    const release = kube.faults.imagePull('word-counter', 'held by the test');
    const { page, errors } = await newPage();
    await page.goto(`${baseUrl}/deploy/${EXAMPLE.solutionId}/${EXAMPLE.revisionId}?jwtToken=${encodeURIComponent(token)}`);
    expect(await page.locator('h1').textContent()).toContain('Slipway Example Pipeline');
    await page.fill('#namespaceName', 'e2e-form');
    await page.setInputFiles('#configFile', kubeconfigFile);
    await Promise.all([page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/), page.click('form button[type=submit]')]);
    const navigations = countNavigations(page);
    const id = new URL(page.url()).pathname.split('/').pop() ?? '';

    await waitForHeldReadiness(page);
    expect(await page.locator('#services a').count()).toBe(0);
    release();

    await expect.poll(() => shownStatus(page), { timeout: 30_000 }).toBe('succeeded');
    const api = await readDeployment(id);
    const expectedLinks = api.services.map((s) => s.webUiUrl).filter((url): url is string => url !== undefined);
    expect(expectedLinks.length).toBeGreaterThanOrEqual(3);
    const links = page.locator('#services a');
    await expect.poll(() => links.evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')))).toEqual(expectedLinks);
    for (const url of expectedLinks) expect(url).toMatch(WEB_UI);
    expect(await page.locator('#progress-text').textContent()).toBe('8 of 8 steps');
    expect(await page.locator('#undeploy').isVisible()).toBe(true);
    expect(await page.locator('#cancel').isVisible()).toBe(false);

    const { status } = await seen(page);
    expect(status.slice(status.indexOf('running'))).toEqual(['running', 'succeeded']);
    expect(navigations()).toBe(0);
    expect(errors).toEqual([]);
    await screenshot(page, 'succeeded');
  }, TEST_TIMEOUT_MS);

  it('moves the progress bar and the steps live, then undeploys from the page', async () => {
    const release = kube.faults.imagePull('text-source', 'pull access denied for text-source (held by the test)');
    const id = await deployThroughApi('e2e-live');
    const { page, errors } = await newPage();
    await page.goto(statusPage(id));
    const navigations = countNavigations(page);

    await waitForHeldReadiness(page);
    // The event log shows the cluster's reason while it waits.
    await expect.poll(() => page.locator('#events li[data-type="health"]').allTextContents(), { timeout: 20_000 }).toContainEqual(expect.stringContaining('text-source'));
    const heldAt = Number(await page.locator('#progress').getAttribute('value'));
    const max = Number(await page.locator('#progress').getAttribute('max'));
    expect(heldAt).toBeGreaterThan(0);
    expect(heldAt).toBeLessThan(max);
    await screenshot(page, 'waiting');
    release();

    await expect.poll(() => shownStatus(page), { timeout: 30_000 }).toBe('succeeded');
    expect(await stepStatus(page, 'wait for readiness').getAttribute('data-status')).toBe('succeeded');
    expect(await stepStatus(page, 'collect services').getAttribute('data-status')).toBe('succeeded');
    const { progress } = await seen(page);
    expect(progress).toContain(heldAt);
    expect(progress.at(-1)).toBe(max);
    expect(progress.slice(progress.indexOf(heldAt))).toEqual([...progress.slice(progress.indexOf(heldAt))].sort((a, b) => a - b));
    expect(kube.listObjects('Deployment').filter((o) => o.metadata.namespace === 'e2e-live').length).toBeGreaterThan(0);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#undeploy');
    await expect.poll(() => shownStatus(page), { timeout: 30_000 }).toBe('deleted');
    const { status } = await seen(page);
    expect(status.slice(status.indexOf('succeeded'))).toEqual(['succeeded', 'deleting', 'deleted']);
    expect(await page.locator('#undeploy').isVisible()).toBe(false);
    expect(await page.locator('#services a').count()).toBe(0);
    expect(await stepStatus(page, 'wait until gone').getAttribute('data-status')).toBe('succeeded');

    const left = kube.listObjects().filter((o) => o.metadata.namespace === 'e2e-live' && ['Deployment', 'Service', 'PersistentVolumeClaim'].includes(o.kind));
    expect(left.map((o) => `${o.kind}/${o.metadata.name ?? ''}`)).toEqual([]);
    expect(kube.getObject('v1', 'Namespace', undefined, 'e2e-live')).toBeUndefined();
    expect(navigations()).toBe(0);
    expect(errors).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('shows why a deployment failed, per node, with and without JavaScript', async () => {
    kube.faults.crashLoop('word-counter', { reason: 'Error', exitCode: 3 });
    const id = await deployThroughApi('e2e-crash');
    const { page, errors } = await newPage();
    await page.goto(statusPage(id));

    await expect.poll(() => shownStatus(page), { timeout: 30_000 }).toBe('failed');
    await expect.poll(() => page.locator('#error .reasons li').allTextContents()).toContainEqual(expect.stringMatching(/Deployment\/word-counter1.*keeps crashing/));
    expect(await page.locator('#error code').first().textContent()).toBe('deploy_not_ready');
    expect(await stepStatus(page, 'wait for readiness').getAttribute('data-status')).toBe('failed');
    expect(await page.locator('#undeploy').isVisible()).toBe(true);
    expect(await page.locator('#cancel').isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await screenshot(page, 'failed');

    // The server-rendered page says the same without any script.
    const plain = await newPage({ javaScriptEnabled: false });
    await plain.page.goto(statusPage(id));
    expect(await shownStatus(plain.page)).toBe('failed');
    expect(await plain.page.locator('#error .reasons li').allTextContents()).toContainEqual(expect.stringMatching(/Deployment\/word-counter1.*keeps crashing/));
    expect(await plain.page.locator('#steps tr').count()).toBe(8);
    expect(await stepStatus(plain.page, 'fetch solution').getAttribute('data-status')).toBe('succeeded');
    expect(await plain.page.locator('#undeploy').isVisible()).toBe(false);
  }, TEST_TIMEOUT_MS);

  it('cancels a running deployment from the page', async () => {
    kube.faults.imagePull('text-source', 'held by the test');
    const id = await deployThroughApi('e2e-cancel');
    const { page, errors } = await newPage();
    await page.goto(statusPage(id));
    await waitForHeldReadiness(page);
    expect(await page.locator('#undeploy').isVisible()).toBe(false);

    await page.click('#cancel');
    await expect.poll(() => shownStatus(page), { timeout: 20_000 }).toBe('cancelled');
    expect(await page.locator('#cancel').isVisible()).toBe(false);
    expect(await page.locator('#undeploy').isVisible()).toBe(true);
    expect((await readDeployment(id)).status).toBe('cancelled');
    expect(errors).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
