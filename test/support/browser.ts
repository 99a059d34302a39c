/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core.
 * No browser is ever downloaded. In CI (CI=true) a missing Chromium fails the tests loudly; on a
 * developer machine they are skipped with a message saying what to install.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, offline-friendly headless run: no sandbox (containers), no GPU, no phoning home. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

const MISSING = `${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y --no-install-recommends chromium, or run scripts/ensure-test-deps.sh)`;

/** Whether the browser tests run. In CI always, so that a missing browser fails them instead of hiding them. */
export function shouldRunBrowserTests(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true') return true;
  console.warn(`Skipping the browser tests: ${MISSING}`);
  return false;
}

/**
 * Launches Chromium. `launch` gives every browser a fresh temporary profile (user data dir) and
 * removes it on close, so no state leaks between runs.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(MISSING);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], timeout: 30_000 });
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions, console errors and failed responses (but the favicon) of the page, to assert there were none. */
  errors: string[];
}

/** A page in a context of its own (own cookies), recording the page's script errors. */
export async function openPage(browser: Browser, options: { javaScriptEnabled?: boolean } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ javaScriptEnabled: options.javaScriptEnabled ?? true, viewport: { width: 1100, height: 900 } });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  // Failed loads are judged by their response below (Chromium's console line omits the URL).
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (response.status() >= 400 && url.pathname !== '/favicon.ico') errors.push(`HTTP ${response.status()}: ${url.pathname}`);
  });
  return { context, page, errors };
}

/** Counts main-frame navigations from now on: a page that redraws live must not reload. */
export function countNavigations(page: Page): () => number {
  let count = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) count += 1;
  });
  return () => count;
}
