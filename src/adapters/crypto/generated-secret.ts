import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A secret the embedded setup makes for itself when none is configured (the development JWT
 * secret, the callback signing key): read `<dataDir>/<fileName>`, or create it (48 random bytes
 * in base64, mode 0600) so that it stays the same across restarts. Two processes starting
 * together keep one secret.
 */
export async function ensureGeneratedSecret(dataDir: string, fileName: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, fileName);
  const existing = await readSecretFile(file);
  if (existing !== undefined && existing !== '') {
    await tightenMode(file);
    return existing;
  }
  const secret = randomBytes(48).toString('base64');
  try {
    // 'wx' when absent so two processes starting together keep one secret; 'w' replaces an empty file.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: existing === undefined ? 'wx' : 'w' });
    await tightenMode(file);
    return secret;
  } catch (error: unknown) {
    if (isErrno(error, 'EEXIST')) {
      const winner = await readSecretFile(file);
      if (winner !== undefined && winner !== '') return winner;
    }
    throw error;
  }
}

async function readSecretFile(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error: unknown) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** A secret readable by others would let them sign as Slipway; keep it owner-only. */
async function tightenMode(file: string): Promise<void> {
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) await chmod(file, 0o600);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && (error as { code: unknown }).code === code;
}
