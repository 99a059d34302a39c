import os from 'node:os';
import pg from 'pg';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { buildApp } from '../app.js';
import { createDownloadSigner } from '../services/packages/download-url.js';
import { createSecretBox } from '../adapters/crypto/secret-box.js';
import { NotFoundError } from '../errors.js';
import { LocalSolutionSource } from '../adapters/local-solutions/local-solution-source.js';

/**
 * The OpenAPI document as the route schemas define it. Building the app registers the routes
 * without touching a database, a queue or a solution source: none of them is called.
 */
export async function openApiDocument(): Promise<string> {
  const config = loadConfig({ JWT_SECRET: 'b3BlbmFwaQ==', SOLUTION_SOURCE: 'local' });
  const unused = (): never => {
    throw new Error('not used while generating the OpenAPI document');
  };
  const app = await buildApp({
    config,
    logger: createLogger('silent'),
    pool: new pg.Pool(),
    queue: { enqueue: unused, work: unused, enqueueTask: unused, workTask: unused, wake: unused, stop: async () => undefined },
    solutionSource: { getSolution: async () => Promise.reject(new NotFoundError('none')) },
    localSolutions: new LocalSolutionSource({ dirs: [os.tmpdir()] }),
    secretBox: createSecretBox(Buffer.alloc(32)),
    jwtKey: new Uint8Array(32),
    listener: { subscribe: () => () => undefined, close: async () => undefined },
    connectCluster: unused,
    downloads: createDownloadSigner(Buffer.alloc(32), { ttlMs: config.packageUrlTtlMs, basePath: config.basePath }),
  });
  await app.ready();
  const yaml = app.swagger({ yaml: true });
  await app.close();
  return yaml;
}
