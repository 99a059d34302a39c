import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/adapters/db/embedded.js';
import { migrate } from '../../src/adapters/db/migrate.js';
import { realKubeUnavailable, startControlPlane, type ControlPlane } from './real-kube.js';

/**
 * One real PostgreSQL for the whole test run (the embedded one, or TEST_DATABASE_URL), with a
 * template database that has every migration and pg-boss's schema. Each test file clones the
 * template into a database of its own (test/support/db.ts), so files run in parallel and leave
 * nothing behind.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test server (database `postgres`). */
    testServerUrl: string;
    templateDatabase: string;
    /** Folder of the run's real Kubernetes control plane (test/support/real-kube.ts); '' when it cannot run here. */
    realKubeDir: string;
  }
}

export const TEMPLATE_DATABASE = 'slipway_template';

let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-test-pg-'));
    embedded = await startEmbeddedPostgres(dataDir, { database: 'postgres' });
    serverUrl = embedded.url;
  }
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();

  const templateUrl = withDatabase(serverUrl, TEMPLATE_DATABASE);
  await migrate(templateUrl);
  const boss = new PgBoss({ connectionString: templateUrl, schema: 'pgboss', supervise: false, schedule: false });
  await boss.start();
  await boss.stop({ graceful: false, wait: true });

  project.provide('testServerUrl', serverUrl);
  project.provide('templateDatabase', TEMPLATE_DATABASE);

  // One real control plane for the run (a namespace per test), every request liable to meet
  // GOAWAY at the apiserver's maximum chance, 0.02: Slipway's HTTP/2 transport must ride it out.
  let plane: ControlPlane | undefined;
  let kubeDir: string | undefined;
  if (realKubeUnavailable() === undefined) {
    kubeDir = await mkdtemp(path.join(os.tmpdir(), 'slipway-test-kube-'));
    plane = await startControlPlane(kubeDir, { goawayChance: 0.02 });
  }
  project.provide('realKubeDir', plane?.dir ?? '');
  return async () => {
    await plane?.stop();
    if (kubeDir) await rm(kubeDir, { recursive: true, force: true });
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
