/**
 * Download links for node installers: a package install Job has no Graphene token, so Slipway
 * signs the link itself. A link is good for one cluster, package and version, for GET, until it
 * expires (PACKAGE_URL_TTL, an hour by default); anything changed in it breaks the signature.
 * The key is derived from ENCRYPTION_KEY (every replica has it) for this purpose only. The
 * signature rides in the query as `signature`, which the logger scrubs.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../errors.js';

export interface DownloadTarget {
  clusterId: string;
  name: string;
  version: string;
}

export interface DownloadSigner {
  /** Path and query of a signed link (relative to the service's base URL). */
  sign(target: DownloadTarget): string;
  /** Throws DownloadLinkRefusedError when the link is expired or not one this service signed. */
  verify(target: DownloadTarget, expires: string | undefined, signature: string | undefined): void;
}

export class DownloadLinkRefusedError extends AppError {
  constructor(message: string) {
    super('download_link_refused', 403, message);
  }
}

export const DOWNLOAD_PATH = '/api/v1/package-downloads';

export function downloadPath(target: DownloadTarget): string {
  return `${DOWNLOAD_PATH}/${target.clusterId}/${encodeURIComponent(target.name)}/${encodeURIComponent(target.version)}`;
}

export function createDownloadSigner(encryptionKey: Buffer, options: { ttlMs: number; basePath: string; now?: () => number }): DownloadSigner {
  const key = Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'slipway package download links', 32));
  const now = options.now ?? Date.now;
  const mac = (target: DownloadTarget, expires: string) =>
    createHmac('sha256', key).update(['GET', target.clusterId, target.name, target.version, expires].join('\n')).digest();
  return {
    sign(target) {
      const expires = String(Math.floor((now() + options.ttlMs) / 1000));
      return `${options.basePath}${downloadPath(target)}?expires=${expires}&signature=${mac(target, expires).toString('base64url')}`;
    },
    verify(target, expires, signature) {
      if (expires === undefined || signature === undefined || !/^\d{1,12}$/.test(expires)) {
        throw new DownloadLinkRefusedError('This download link is incomplete: it needs the expires and signature Slipway put in it');
      }
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(target, expires);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new DownloadLinkRefusedError('This download link was not signed by this service for this cluster, package and version (changed or forged)');
      }
      if (Number(expires) * 1000 <= now()) {
        throw new DownloadLinkRefusedError(`This download link expired at ${new Date(Number(expires) * 1000).toISOString()}; the rollout job signs a new one for each install`);
      }
    },
  };
}
