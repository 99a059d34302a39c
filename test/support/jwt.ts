/**
 * Helpers to make test tokens, with three independent signers so the verifier is not only
 * checked against the library it uses itself:
 * - jose (SignJWT, and hand-built tokens for shapes jose refuses to produce, like alg "none");
 * - PyJWT from Debian's python3-jwt, run with /usr/bin/python3;
 * - OpenSSL computing the HMAC over a signing input we assemble.
 * External signers fail loudly in CI (CI=true) when missing; locally the tests that need them
 * are skipped with a message saying what to install.
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';

export type TestHmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

const PYTHON = '/usr/bin/python3';
const DIGEST: Record<TestHmacAlgorithm, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

export function base64url(input: Uint8Array | string): string {
  return Buffer.from(typeof input === 'string' ? Buffer.from(input, 'utf8') : input).toString('base64url');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Seconds since the epoch, `offset` seconds from now. */
export function epochSeconds(offset = 0): number {
  return Math.floor(Date.now() / 1000) + offset;
}

/** A portal-shaped claim set (see JwtTokenUtil.generateToken), valid for an hour unless overridden. */
export function portalClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'alice',
    mlpuser: { email: 'alice@example.org', loginName: 'alice', firstName: 'Alice', lastName: 'Liddell', userId: 'u-123' },
    role: [{ roleId: 'r-1', name: 'MLP System User', active: true }],
    created: Date.now(),
    exp: epochSeconds(3600),
    ...overrides,
  };
}

/** Signs any claim set with jose (no claim is added: omit `exp` to test a token without one). */
export async function signWithJose(
  key: Uint8Array,
  claims: Record<string, unknown>,
  alg: TestHmacAlgorithm = 'HS512',
): Promise<string> {
  return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg }).sign(key);
}

/** header.payload.signature from raw parts; for tokens no library will sign (alg none, junk). */
export function assembleToken(header: unknown, payload: unknown, signature = ''): string {
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.${signature}`;
}

/**
 * HMAC-signs exact header and payload JSON text (node:crypto), for payloads JSON.stringify cannot
 * produce (`1e400`, a top-level array, text that is not JSON).
 */
export function signRawToken(headerJson: string, payloadJson: string, key: Uint8Array, alg: TestHmacAlgorithm = 'HS512'): string {
  const signingInput = `${base64url(headerJson)}.${base64url(payloadJson)}`;
  const mac = createHmac(DIGEST[alg], key).update(signingInput).digest();
  return `${signingInput}.${base64url(mac)}`;
}

export type ToolProbe = { ok: true } | { ok: false; reason: string };

function probe(command: string, args: string[], missing: string): ToolProbe {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error === undefined && result.status === 0) return { ok: true };
  return { ok: false, reason: missing };
}

export function probePythonJwt(): ToolProbe {
  return probe(PYTHON, ['-c', 'import jwt'], `${PYTHON} with PyJWT is missing (apt-get install -y python3-jwt)`);
}

export function probeOpenssl(): ToolProbe {
  return probe('openssl', ['version'], 'openssl is missing (apt-get install -y openssl)');
}

/**
 * Whether tests that need an external tool run. In CI they always run, so a missing tool makes
 * them fail instead of silently passing; locally they are skipped with a warning.
 */
export function shouldRunWith(toolProbe: ToolProbe): boolean {
  if (toolProbe.ok) return true;
  if (process.env.CI === 'true') return true;
  console.warn(`Skipping tests that need an external signer: ${toolProbe.reason}`);
  return false;
}

function run(command: string, args: string[], input: string | Buffer): Buffer {
  const result = spawnSync(command, args, { input });
  if (result.error !== undefined) throw new Error(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr.toString()}`);
  return result.stdout;
}

const PYJWT_SIGN = `
import base64, json, re, sys
import jwt
req = json.load(sys.stdin)
if 'secret' in req:
    # What Graphene's JAXB decoder does for a well-formed secret: drop non-base64 characters.
    key = base64.b64decode(re.sub(r'[^A-Za-z0-9+/=]', '', req['secret']))
else:
    key = bytes.fromhex(req['key_hex'])
token = jwt.encode(req['claims'], key, algorithm=req['alg'])
sys.stdout.write(token if isinstance(token, str) else token.decode())
`;

/** Signs with PyJWT; `key` is raw bytes, or `{ secret }` to let Python derive the key itself. */
export function signWithPyJwt(
  key: Uint8Array | { secret: string },
  claims: Record<string, unknown>,
  alg: TestHmacAlgorithm = 'HS512',
): string {
  const keyPart = key instanceof Uint8Array ? { key_hex: toHex(key) } : { secret: key.secret };
  return run(PYTHON, ['-c', PYJWT_SIGN], JSON.stringify({ ...keyPart, claims, alg })).toString('utf8').trim();
}

/** Python's own decoding of a secret (strip non-alphabet characters, base64-decode), as hex. */
export function pythonKeyHexFromSecret(secret: string): string {
  const script =
    "import base64, re, sys; s = sys.stdin.read(); sys.stdout.write(base64.b64decode(re.sub(r'[^A-Za-z0-9+/=]', '', s)).hex())";
  return run(PYTHON, ['-c', script], secret).toString('utf8').trim();
}

/** Token whose HMAC is computed by `openssl dgst -mac HMAC` over header.payload. */
export function signWithOpenssl(
  key: Uint8Array,
  claims: Record<string, unknown>,
  alg: TestHmacAlgorithm = 'HS512',
): string {
  const signingInput = `${base64url(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  const mac = run(
    'openssl',
    ['dgst', `-${DIGEST[alg]}`, '-mac', 'HMAC', '-macopt', `hexkey:${toHex(key)}`, '-binary'],
    signingInput,
  );
  return `${signingInput}.${base64url(mac)}`;
}
