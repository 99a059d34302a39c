import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../errors.js';

/**
 * Secrets at rest (kube configs, BMC passwords): AES-256-GCM with a random 96-bit nonce per
 * value. Sealed form: `v1.<nonce>.<tag>.<ciphertext>`, each part base64url. The additional data
 * binds a ciphertext to its purpose and record, so a sealed value copied into another row or
 * column does not open.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export class SecretUnreadableError extends AppError {
  constructor() {
    super('secret_unreadable', 500, 'A stored secret could not be decrypted (wrong ENCRYPTION_KEY?)');
  }
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('The encryption key must be 32 bytes');
  return {
    seal(plaintext, context) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return ['v1', nonce, tag, body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
    },
    open(sealed, context) {
      const [version, nonce, tag, body] = sealed.split('.');
      if (version !== 'v1' || nonce === undefined || tag === undefined || body === undefined) throw new SecretUnreadableError();
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretUnreadableError();
      }
    },
  };
}

/**
 * The key: ENCRYPTION_KEY (base64 of 32 bytes) when set; otherwise, in the embedded setup only,
 * `<dataDir>/encryption-key`, generated once with mode 0600.
 */
export async function loadEncryptionKey(encryptionKey: string | undefined, dataDir: string): Promise<Buffer> {
  if (encryptionKey !== undefined) return Buffer.from(encryptionKey, 'base64');
  const file = path.join(dataDir, 'encryption-key');
  if (existsSync(file)) {
    const mode = (await stat(file)).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new Error(`${file} must not be readable by group or others (mode ${mode.toString(8)}); chmod 600 it`);
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
