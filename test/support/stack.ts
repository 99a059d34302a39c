import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startRuntime, type Runtime, type RuntimeOverrides } from '../../src/runtime.js';
import { signDevToken } from '../../src/http/auth/dev-token.js';
import { decodeJwtSecret } from '../../src/http/auth/secret.js';
import { createTestDatabase } from './db.js';

/**
 * A whole Slipway (HTTP app, workers, queue) on a database of its own, built exactly as
 * server.ts builds it, with adapters swapped for doubles where a test says so. `logs` holds every
 * log line, so tests can check that secrets never reach them.
 */
export const TEST_JWT_SECRET = 'c2xpcHdheS10ZXN0LXNlY3JldC1mb3ItaG1hYy1zaWduaW5nLTY0LWJ5dGVzLWxvbmctZW5vdWdo';

export interface TestStack {
  runtime: Runtime;
  config: Config;
  logs: string[];
  token(options?: { email?: string; roles?: string[] }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestStack(env: Record<string, string> = {}, overrides: RuntimeOverrides = {}): Promise<TestStack> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-test-data-'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_JWT_SECRET,
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    LOG_LEVEL: 'debug',
    SOLUTION_SOURCE: 'local',
    SOLUTIONS_DIR: path.join(dataDir, 'solutions'),
    DEPLOY_TIMEOUT: '20s',
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  const runtime = await startRuntime(config, createLogger(config.logLevel, sink), overrides);
  // Routes exist once the app has booted; supertest on an unbooted server waits forever.
  await runtime.app.ready();
  const key = decodeJwtSecret(TEST_JWT_SECRET, 'base64');
  return {
    runtime,
    config,
    logs,
    token: (options = {}) => signDevToken(key, { email: options.email ?? 'ada@example.org', ...(options.roles ? { roles: options.roles } : {}) }),
    async close() {
      await runtime.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
