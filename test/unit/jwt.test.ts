import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, UnauthorizedError } from '../../src/errors.js';
import { signDevToken } from '../../src/http/auth/dev-token.js';
import { MAX_TOKEN_LENGTH, rolesFromClaim, verifyGrapheneToken } from '../../src/http/auth/jwt.js';
import { decodeJwtSecret, ensureDevSecret } from '../../src/http/auth/secret.js';
import {
  assembleToken,
  base64url,
  epochSeconds,
  portalClaims,
  probeOpenssl,
  probePythonJwt,
  pythonKeyHexFromSecret,
  shouldRunWith,
  signRawToken,
  signWithJose,
  signWithOpenssl,
  signWithPyJwt,
  toHex,
  type TestHmacAlgorithm,
} from '../support/jwt.js';

/** A Graphene-style secret: UUID-like, dashes and all. */
const SECRET = 'f0a1b2c3-d4e5-4f60-8a9b-0c1d2e3f4a5b';
/** Computed with Python: base64.b64decode('f0a1b2c3d4e54f608a9b0c1d2e3f4a5b').hex() */
const SECRET_KEY_HEX = '7f46b56f67377787b9e1feb4f1af5bd1cd5dd9eddfe1ae5b';
const KEY = decodeJwtSecret(SECRET, 'base64');
const ALGORITHMS: TestHmacAlgorithm[] = ['HS256', 'HS384', 'HS512'];

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a rejection, got a principal'),
    (error: unknown) => error,
  );
}

/** Asserts an UnauthorizedError with `reason` whose message does not leak the token. */
async function expectRefused(token: string, reason: string, key: Uint8Array = KEY, now?: Date): Promise<UnauthorizedError> {
  const error = await rejectionOf(verifyGrapheneToken(token, key, now));
  expect(error).toBeInstanceOf(UnauthorizedError);
  const refused = error as UnauthorizedError;
  expect(refused.reason).toBe(reason);
  expect(refused.status).toBe(401);
  for (const part of token.split('.')) {
    if (part.length >= 8) expect(refused.message).not.toContain(part);
  }
  return refused;
}

describe('decodeJwtSecret (jjwt 0.9.1 / DatatypeConverter.parseBase64Binary)', () => {
  it('decodes a UUID-like secret by skipping the dashes (vector computed with Python)', () => {
    expect(toHex(decodeJwtSecret(SECRET, 'base64'))).toBe(SECRET_KEY_HEX);
  });

  it('decodes padded base64 like any decoder', () => {
    expect(Buffer.from(decodeJwtSecret('c2VjcmV0LWtleS1mb3ItZ3JhcGhlbmU=', 'base64')).toString()).toBe(
      'secret-key-for-graphene',
    );
    expect(Buffer.from(decodeJwtSecret('QUJD-RA==', 'base64')).toString()).toBe('ABCD');
  });

  it('skips whitespace, line breaks and other non-alphabet characters', () => {
    expect(Buffer.from(decodeJwtSecret(' QU\tJD\r\nRA==_.', 'base64')).toString()).toBe('ABCD');
  });

  it('drops a trailing group of fewer than four characters, as Java does', () => {
    expect(Buffer.from(decodeJwtSecret('QUJD-RA', 'base64')).toString()).toBe('ABC');
    expect(Buffer.from(decodeJwtSecret('QUJDR', 'base64')).toString()).toBe('ABC');
  });

  it("reproduces Java's bytes for '=' inside a group (worked by hand from DatatypeConverterImpl)", () => {
    // Q=16, Q=16, '='=PADDING(127), A=0: byte0 = 16<<2 | 16>>4 = 0x41; byte1 skipped (q2 is
    // padding); byte2 = (127<<6 | 0) & 0xff = 0xc0.
    expect(toHex(decodeJwtSecret('QQ=A', 'base64'))).toBe('41c0');
  });

  it('refuses, with a ConfigError, secrets Graphene itself cannot decode', () => {
    expect(() => decodeJwtSecret('QUJDé', 'base64')).toThrow(ConfigError); // non-ASCII: AIOOBE in Java
    expect(() => decodeJwtSecret('AAAAA=', 'base64')).toThrow(ConfigError); // guessLength too small
    expect(() => decodeJwtSecret('----', 'base64')).toThrow(ConfigError); // "Empty key"
    expect(() => decodeJwtSecret('abc', 'base64')).toThrow(ConfigError);
    expect(() => decodeJwtSecret('', 'base64')).toThrow(ConfigError);
  });

  it('uses the UTF-8 bytes in utf8 mode', () => {
    expect(Buffer.from(decodeJwtSecret(SECRET, 'utf8')).toString()).toBe(SECRET);
    expect(() => decodeJwtSecret('', 'utf8')).toThrow(ConfigError);
  });

  it('round-trips any key written as base64 with dashes sprinkled in', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.array(fc.nat()), (bytes, cuts) => {
        let text = Buffer.from(bytes).toString('base64');
        for (const cut of cuts) {
          const at = cut % (text.length + 1);
          text = `${text.slice(0, at)}-${text.slice(at)}`;
        }
        expect(toHex(decodeJwtSecret(text, 'base64'))).toBe(toHex(bytes));
      }),
    );
  });

  describe.runIf(shouldRunWith(probePythonJwt()))('agrees with Python on well-formed secrets', () => {
    it.each([SECRET, randomUUID(), randomUUID(), 'c2VjcmV0LWtleS1mb3ItZ3JhcGhlbmU='])('%s', (secret) => {
      expect(toHex(decodeJwtSecret(secret, 'base64'))).toBe(pythonKeyHexFromSecret(secret));
    });
  });
});

describe('ensureDevSecret', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-secret-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a 0600 secret once and returns the same one afterwards', async () => {
    const dataDir = path.join(dir, 'fresh', 'nested');
    const first = await ensureDevSecret(dataDir);
    const file = path.join(dataDir, 'dev-jwt-secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first);
    expect(decodeJwtSecret(first, 'base64')).toHaveLength(48);
    expect(await ensureDevSecret(dataDir)).toBe(first);
  });

  it('tightens a secret file readable by others and replaces an empty one', async () => {
    const loose = path.join(dir, 'loose');
    await ensureDevSecret(loose);
    await chmod(path.join(loose, 'dev-jwt-secret'), 0o644);
    await ensureDevSecret(loose);
    expect((await stat(path.join(loose, 'dev-jwt-secret'))).mode & 0o777).toBe(0o600);

    const empty = path.join(dir, 'empty');
    await ensureDevSecret(empty);
    await writeFile(path.join(empty, 'dev-jwt-secret'), '\n');
    const replaced = await ensureDevSecret(empty);
    expect(replaced.length).toBeGreaterThan(40);
  });
});

describe('verifyGrapheneToken: valid tokens from independent signers', () => {
  it.each(ALGORITHMS)('accepts %s from jose', async (alg) => {
    const principal = await verifyGrapheneToken(await signWithJose(KEY, portalClaims(), alg), KEY);
    expect(principal).toMatchObject({
      user: 'alice@example.org',
      loginName: 'alice',
      userId: 'u-123',
      roles: ['MLP System User'],
    });
  });

  describe.runIf(shouldRunWith(probePythonJwt()))('PyJWT (python3-jwt)', () => {
    it.each(ALGORITHMS)('accepts %s', async (alg) => {
      const principal = await verifyGrapheneToken(signWithPyJwt(KEY, portalClaims(), alg), KEY);
      expect(principal.user).toBe('alice@example.org');
    });

    it('accepts a token signed with the key Python derives from the dashed secret', async () => {
      const token = signWithPyJwt({ secret: SECRET }, portalClaims(), 'HS512');
      expect((await verifyGrapheneToken(token, KEY)).user).toBe('alice@example.org');
    });
  });

  describe.runIf(shouldRunWith(probeOpenssl()))('OpenSSL HMAC', () => {
    it.each(ALGORITHMS)('accepts %s', async (alg) => {
      const principal = await verifyGrapheneToken(signWithOpenssl(KEY, portalClaims(), alg), KEY);
      expect(principal.user).toBe('alice@example.org');
    });
  });

  it('returns the expiry from exp', async () => {
    const exp = epochSeconds(600);
    const principal = await verifyGrapheneToken(await signWithJose(KEY, portalClaims({ exp })), KEY);
    expect(principal.expiresAt.getTime()).toBe(exp * 1000);
  });

  it('accepts the development token and reads it like a portal token', async () => {
    const token = await signDevToken(KEY, { email: 'dev@example.org', roles: ['Admin', 'Publisher'], ttlSeconds: 120 });
    const principal = await verifyGrapheneToken(token, KEY);
    expect(principal).toMatchObject({ user: 'dev@example.org', loginName: 'dev', roles: ['Admin', 'Publisher'] });
    expect(principal.userId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(principal.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(120_000);
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { alg: string };
    expect(header.alg).toBe('HS512');
    expect(await signDevToken(KEY, { email: 'dev@example.org' })).not.toBe('');
  });
});

describe('verifyGrapheneToken: refusals', () => {
  it('refuses an expired token, naming when it expired', async () => {
    const exp = epochSeconds(-60);
    const refused = await expectRefused(await signWithJose(KEY, portalClaims({ exp })), 'expired');
    expect(refused.message).toContain(new Date(exp * 1000).toISOString());
  });

  it('judges expiry against the given clock', async () => {
    const exp = epochSeconds(600);
    const token = await signWithJose(KEY, portalClaims({ exp }));
    await expect(verifyGrapheneToken(token, KEY, new Date((exp - 1) * 1000))).resolves.toMatchObject({ user: 'alice@example.org' });
    await expectRefused(token, 'expired', KEY, new Date((exp + 1) * 1000));
  });

  it('refuses a token not valid yet (nbf in the future)', async () => {
    await expectRefused(await signWithJose(KEY, portalClaims({ nbf: epochSeconds(600) })), 'expired');
  });

  it('refuses a token without exp', async () => {
    const { exp: _omitted, ...claims } = portalClaims();
    await expectRefused(await signWithJose(KEY, claims), 'missing_exp');
  });

  it('refuses exp that is not a usable number', async () => {
    await expectRefused(await signWithJose(KEY, portalClaims({ exp: 'tomorrow' })), 'malformed_token');
    await expectRefused(signRawToken('{"alg":"HS512"}', '{"sub":"a","exp":1e400}', KEY), 'malformed_token');
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = (await signWithJose(KEY, portalClaims())).split('.');
    const forged = base64url(JSON.stringify(portalClaims({ role: ['Admin'] })));
    await expectRefused(`${header}.${forged}.${signature}`, 'bad_signature');
  });

  it('refuses a tampered or missing signature', async () => {
    const token = await signWithJose(KEY, portalClaims());
    const [header, payload, signature = ''] = token.split('.');
    const flipped = (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1);
    await expectRefused(`${header}.${payload}.${flipped}`, 'bad_signature');
    await expectRefused(`${header}.${payload}.`, 'bad_signature');
  });

  it('refuses a token signed with another key', async () => {
    const other = decodeJwtSecret(randomUUID(), 'base64');
    await expectRefused(await signWithJose(other, portalClaims()), 'bad_signature');
    // The same secret used as UTF-8 bytes is a different key: the portal base64-decodes it.
    await expectRefused(await signWithJose(decodeJwtSecret(SECRET, 'utf8'), portalClaims()), 'bad_signature');
  });

  it('refuses an unsigned token (alg none)', async () => {
    await expectRefused(assembleToken({ alg: 'none', typ: 'JWT' }, portalClaims()), 'unsupported_algorithm');
    await expectRefused(assembleToken({ alg: 'none' }, portalClaims(), 'c2ln'), 'unsupported_algorithm');
    await expectRefused(assembleToken({ typ: 'JWT' }, portalClaims(), 'c2ln'), 'unsupported_algorithm');
  });

  it.each(['RS256', 'ES256'] as const)('refuses %s tokens, even correctly signed', async (alg) => {
    const { privateKey } = await generateKeyPair(alg);
    const token = await new SignJWT(portalClaims()).setProtectedHeader({ alg }).sign(privateKey);
    await expectRefused(token, 'unsupported_algorithm');
  });

  it('refuses an asymmetric algorithm name over an HMAC signature (algorithm confusion)', async () => {
    const [, payload, signature] = (await signWithJose(KEY, portalClaims())).split('.');
    await expectRefused(`${base64url('{"alg":"RS256"}')}.${payload}.${signature}`, 'unsupported_algorithm');
  });

  it.each([
    ['an empty string', ''],
    ['blanks', '   '],
  ])('treats %s as no token', async (_label, token) => {
    await expectRefused(token, 'missing_token');
  });

  it.each([
    ['garbage', 'not a token at all'],
    ['two parts', 'eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhIn0'],
    ['four parts', 'eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhIn0.c2ln.c2ln'],
    ['five parts (JWE)', 'a.b.c.d.e'],
    ['dots only', '..'],
    ['header not JSON', `${base64url('not json')}.${base64url('{}')}.c2ln`],
    ['header a JSON array', `${base64url('["HS512"]')}.${base64url('{}')}.c2ln`],
    ['characters outside base64url', 'eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhIn0=.c2ln'],
    ['a NUL byte', '\u0000.\u0000.\u0000'],
  ])('refuses %s as malformed', async (_label, token) => {
    await expectRefused(token, 'malformed_token');
  });

  it('refuses a signed payload that is not a JSON object', async () => {
    await expectRefused(signRawToken('{"alg":"HS512"}', '[1,2]', KEY), 'malformed_token');
    await expectRefused(signRawToken('{"alg":"HS512"}', 'not json', KEY), 'malformed_token');
  });

  it('refuses a huge token before verifying it', async () => {
    const huge = await signWithJose(KEY, portalClaims({ padding: 'x'.repeat(MAX_TOKEN_LENGTH) }));
    expect(huge.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    await expectRefused(huge, 'malformed_token');
    await expectRefused('a'.repeat(5_000_000), 'malformed_token');
  });

  it('refuses a token that names no user', async () => {
    await expectRefused(await signWithJose(KEY, { exp: epochSeconds(60) }), 'no_subject');
    await expectRefused(await signWithJose(KEY, { exp: epochSeconds(60), sub: '', mlpuser: { email: ' ' } }), 'no_subject');
  });

  it('never throws anything but UnauthorizedError, whatever the input', async () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/);
    const arbitraryToken = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(segment, segment, segment).map((parts) => parts.join('.')),
      fc.tuple(fc.json(), fc.json(), segment).map(([h, p, s]) => `${base64url(h)}.${base64url(p)}.${s}`),
    );
    await fc.assert(
      fc.asyncProperty(arbitraryToken, async (token) => {
        const error = await rejectionOf(verifyGrapheneToken(token, KEY));
        expect(error).toBeInstanceOf(UnauthorizedError);
      }),
      { numRuns: 300 },
    );
  });
});

describe('verifyGrapheneToken: who the token names', () => {
  async function principalFor(claims: Record<string, unknown>) {
    return verifyGrapheneToken(await signWithJose(KEY, { exp: epochSeconds(600), ...claims }), KEY);
  }

  it('uses mlpuser.email as the user, else sub', async () => {
    expect((await principalFor({ sub: 'bob', mlpuser: { email: 'bob@example.org' } })).user).toBe('bob@example.org');
    expect((await principalFor({ sub: 'bob' })).user).toBe('bob');
    expect((await principalFor({ sub: 'bob', mlpuser: { loginName: 'bobby' } })).user).toBe('bob');
    expect((await principalFor({ sub: 'bob', mlpuser: { email: '' } })).user).toBe('bob');
    expect((await principalFor({ sub: 'bob', mlpuser: 'not an object' })).user).toBe('bob');
  });

  it('takes loginName from mlpuser, else sub, and userId from mlpuser', async () => {
    expect(await principalFor({ sub: 'bob', mlpuser: { email: 'b@x', loginName: 'bobby', userId: 'id-1' } })).toMatchObject({
      loginName: 'bobby',
      userId: 'id-1',
    });
    const bare = await principalFor({ sub: 'bob' });
    expect(bare.loginName).toBe('bob');
    expect(bare.userId).toBeUndefined();
  });

  it('reads roles as the portal writes them (MLRole objects) and as plain strings', async () => {
    const portalRoles = [
      { roleId: '1', name: 'Admin', active: true, created: 1_700_000_000_000, permissionList: null },
      { roleId: '2', name: 'Retired', active: false },
      { roleId: '3', name: 'Publisher' },
      { roleId: '4' },
    ];
    expect((await principalFor({ sub: 'a', role: portalRoles })).roles).toEqual(['Admin', 'Publisher']);
    expect((await principalFor({ sub: 'a', role: ['Admin', 'Admin', '', 7] })).roles).toEqual(['Admin']);
    expect((await principalFor({ sub: 'a' })).roles).toEqual([]);
    expect(rolesFromClaim('Admin')).toEqual(['Admin']);
    expect(rolesFromClaim({ name: 'Admin' })).toEqual(['Admin']);
    expect(rolesFromClaim(null)).toEqual([]);
  });
});
