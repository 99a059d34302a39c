import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, startupNotices } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { CALLBACK_SECRET_FILE, withGeneratedSecrets } from '../../src/runtime.js';

/** The callback signing key the embedded setup makes for itself, like its JWT secret and encryption key. */
const dirs: string[] = [];
const logger = createLogger('silent');

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-secrets-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('the callback signing key', () => {
  it('is generated into DATA_DIR (mode 0600) in the embedded setup, and the same after a restart', async () => {
    const dir = await dataDir();
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.callbackSecret).toBeUndefined();
    const first = await withGeneratedSecrets(config, logger);
    const file = path.join(dir, CALLBACK_SECRET_FILE);
    expect(first.callbackSecret).toBe((await readFile(file, 'utf8')).trim());
    expect(Buffer.from(first.callbackSecret ?? '', 'base64')).toHaveLength(48);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await withGeneratedSecrets(loadConfig({ DATA_DIR: dir }), logger)).callbackSecret).toBe(first.callbackSecret);
  });

  it('is CALLBACK_SECRET when given, and stays required with DATABASE_URL (replicas must share one key)', async () => {
    const dir = await dataDir();
    const given = await withGeneratedSecrets(loadConfig({ DATA_DIR: dir, CALLBACK_SECRET: 'from-the-operator' }), logger);
    expect(given.callbackSecret).toBe('from-the-operator');
    const external = loadConfig({ DATA_DIR: dir, DATABASE_URL: 'postgres://db.invalid/slipway', JWT_SECRET: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=', ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') });
    expect((await withGeneratedSecrets(external, logger)).callbackSecret).toBeUndefined();
    await expect(stat(path.join(dir, CALLBACK_SECRET_FILE))).rejects.toThrow(/ENOENT/);
  });
});

describe('startupNotices', () => {
  it('says at start which defaults name images nobody publishes, and that PUBLIC_URL is missing', () => {
    const notices = startupNotices(loadConfig({ DATA_DIR: '/tmp/unused', BOOTSTRAP_KUBECONFIG: '/tmp/bootstrap.kubeconfig' }));
    expect(notices).toHaveLength(3);
    expect(notices[0]).toMatch(/^PACKAGE_INSTALLER_IMAGE is the default slipway\/package-installer:latest, which nobody publishes/);
    expect(notices[1]).toMatch(/^KUD_INSTALLER_IMAGE is the default slipway\/kud-installer:latest/);
    expect(notices[2]).toMatch(/^PUBLIC_URL is not set/);
    const published = loadConfig({ DATA_DIR: '/tmp/unused', PACKAGE_INSTALLER_IMAGE: 'registry.example/pkg:1', PUBLIC_URL: 'https://slipway.example' });
    expect(startupNotices(published)).toEqual([]);
  });
});
