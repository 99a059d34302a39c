import { loadConfig, startupNotices } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import { startRuntime } from './runtime.js';
import { signDevToken } from './http/auth/dev-token.js';

/** The process: configuration, logger, start, graceful shutdown. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error: unknown) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const runtime = await startRuntime(config, logger);
  const address = await runtime.app.listen({ port: config.port, host: config.host });
  logger.info({ address, mode: config.mode }, 'Slipway is listening');
  for (const notice of startupNotices(config)) logger.warn(notice);

  if (runtime.devSecret) {
    const token = await signDevToken(runtime.devSecret, { ttlSeconds: 8 * 3600 });
    const port = new URL(address).port;
    const base = config.publicUrl ?? `http://localhost:${port}${config.basePath}`;
    // Printed to the terminal, not the log: it carries a development token (valid 8 hours).
    process.stdout.write(
      `\nSlipway is running with a development secret (no JWT_SECRET set).\n` +
        `Open: ${base}/?jwtToken=${token}\n` +
        `(a development token, valid 8 hours; the page lists the solutions you can deploy)\n\n`,
    );
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining HTTP and jobs');
    runtime
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Slipway failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
