import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * A token shaped like the Graphene portal's (JwtTokenUtil.generateToken: HS512, `sub` = login
 * name, `mlpuser` = the user object, `role` = MLRole objects, `created` in milliseconds, `exp`
 * in seconds), for the embedded setup's ready-to-open URL. Signed with the same key the service
 * verifies with, so it exercises the real verification path.
 */
export interface DevTokenOptions {
  email?: string;
  /** Role names; written as portal-style role objects. Default: Graphene's plain user role. */
  roles?: string[];
  ttlSeconds?: number;
}

const DEFAULT_EMAIL = 'developer@slipway.local';
const DEFAULT_ROLES = ['MLP System User'];
const DEFAULT_TTL_SECONDS = 3600;

/** A stable UUID-shaped id per email, so records keep their owner across restarts. */
function userIdFor(email: string): string {
  const hex = createHash('sha256').update(`slipway-dev-user:${email}`).digest('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join('-');
}

export async function signDevToken(key: Uint8Array, options: DevTokenOptions = {}): Promise<string> {
  const email = options.email ?? DEFAULT_EMAIL;
  const loginName = email.split('@')[0] || 'developer';
  const roles = options.roles ?? DEFAULT_ROLES;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const nowMs = Date.now();

  return new SignJWT({
    mlpuser: { email, loginName, firstName: 'Slipway', lastName: 'Developer', userId: userIdFor(email) },
    role: roles.map((name, index) => ({ roleId: `dev-role-${index + 1}`, name, active: true })),
    created: nowMs,
  })
    .setProtectedHeader({ alg: 'HS512' })
    .setSubject(loginName)
    .setExpirationTime(Math.floor(nowMs / 1000) + ttlSeconds)
    .sign(key);
}
