import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { UnauthorizedError } from '../../src/errors.js';
import { createAuthenticator } from '../../src/http/auth/authenticator.js';
import { decodeJwtSecret } from '../../src/http/auth/secret.js';
import { extractToken, type TokenCarriers } from '../../src/http/auth/token.js';
import { epochSeconds, portalClaims, signWithJose } from '../support/jwt.js';

function carriers(parts: Partial<TokenCarriers>): TokenCarriers {
  return { query: {}, headers: {}, cookies: {}, ...parts };
}

describe('extractToken', () => {
  const all = carriers({
    query: { jwtToken: 'from-query' },
    headers: { jwttoken: 'from-header', authorization: 'from-authorization' },
    cookies: { Authorization: 'from-cookie' },
  });

  it('prefers query, then jwtToken header, then Authorization header, then cookie', () => {
    expect(extractToken(all)).toEqual({ token: 'from-query', source: 'query' });
    expect(extractToken({ ...all, query: {} })).toEqual({ token: 'from-header', source: 'header' });
    expect(extractToken({ ...all, query: {}, headers: { authorization: 'from-authorization' } })).toEqual({
      token: 'from-authorization',
      source: 'authorization',
    });
    expect(extractToken({ ...all, query: {}, headers: {} })).toEqual({ token: 'from-cookie', source: 'cookie' });
  });

  it('finds nothing when no carrier has a token', () => {
    expect(extractToken(carriers({}))).toBeUndefined();
    expect(extractToken(carriers({ query: { other: 'x' }, headers: { accept: 'text/html' }, cookies: { session: 'y' } }))).toBeUndefined();
  });

  it('accepts the raw token or "Bearer <token>" in Authorization (scheme in any case)', () => {
    expect(extractToken(carriers({ headers: { authorization: 'raw.jwt.token' } }))?.token).toBe('raw.jwt.token');
    expect(extractToken(carriers({ headers: { authorization: 'Bearer abc.def.ghi' } }))?.token).toBe('abc.def.ghi');
    expect(extractToken(carriers({ headers: { authorization: 'bearer   abc.def.ghi ' } }))?.token).toBe('abc.def.ghi');
    expect(extractToken(carriers({ cookies: { Authorization: 'Bearer abc.def.ghi' } }))?.token).toBe('abc.def.ghi');
  });

  it('skips an Authorization header with another scheme and falls through to the cookie', () => {
    const found = extractToken(carriers({ headers: { authorization: 'Basic dXNlcjpwYXNz' }, cookies: { Authorization: 'c' } }));
    expect(found).toEqual({ token: 'c', source: 'cookie' });
  });

  it('treats blank values as absent', () => {
    const found = extractToken(
      carriers({ query: { jwtToken: '' }, headers: { jwttoken: '  ', authorization: '' }, cookies: { Authorization: 'c' } }),
    );
    expect(found).toEqual({ token: 'c', source: 'cookie' });
  });

  it('takes the first non-blank value of a repeated parameter or header', () => {
    expect(extractToken(carriers({ query: { jwtToken: ['', 'second'] } }))).toEqual({ token: 'second', source: 'query' });
    expect(extractToken(carriers({ headers: { jwttoken: ['h1', 'h2'] } }))).toEqual({ token: 'h1', source: 'header' });
    expect(extractToken(carriers({ query: { jwtToken: { nested: 'x' } } }))).toBeUndefined();
  });

  it('matches header names in any case when headers were built by hand', () => {
    expect(extractToken(carriers({ headers: { JwtToken: 'h' } }))).toEqual({ token: 'h', source: 'header' });
    expect(extractToken(carriers({ headers: { Authorization: 'Bearer a' } }))).toEqual({ token: 'a', source: 'authorization' });
  });
});

describe('createAuthenticator (through Fastify with @fastify/cookie)', () => {
  const key = decodeJwtSecret('0b6e7c1a-4f2d-4e8b-9a3c-5d6e7f8a9b0c', 'base64');
  let app: FastifyInstance | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function buildApp(basePath: string, adminRoles: string[] = ['Admin']): Promise<FastifyInstance> {
    const authenticator = createAuthenticator({ key, basePath, adminRoles });
    const instance = Fastify({ trustProxy: true });
    await instance.register(cookie);
    // Stand-in for the app's error handler: only what the tests need to see.
    instance.setErrorHandler((error, _request, reply) => {
      if (error instanceof UnauthorizedError) return reply.code(401).send({ reason: error.reason, message: error.message });
      return reply.code(500).send({ reason: 'unexpected', message: String(error) });
    });
    instance.get(`${basePath}/page`, async (request, reply) => {
      const principal = await authenticator.authenticate(request, reply);
      return { user: principal.user, admin: authenticator.isAdmin(principal) };
    });
    app = instance;
    return instance;
  }

  it('accepts ?jwtToken= and keeps it in an HttpOnly, Lax cookie scoped to the base path', async () => {
    const server = await buildApp('/creodias-deployer');
    const token = await signWithJose(key, portalClaims());
    const response = await server.inject({ method: 'GET', url: `/creodias-deployer/page?jwtToken=${token}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ user: 'alice@example.org', admin: false });
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toContain(`Authorization=${token}`);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; Path=\/creodias-deployer(;|$)/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/);
  });

  it('marks the cookie Secure over https and uses Path=/ without a base path', async () => {
    const server = await buildApp('');
    const token = await signWithJose(key, portalClaims());
    const response = await server.inject({
      method: 'GET',
      url: `/page?jwtToken=${token}`,
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(response.statusCode).toBe(200);
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(/; Path=\/(;|$)/);
    expect(setCookie).toMatch(/; Secure/);
  });

  it('authenticates from the cookie alone and does not set it again', async () => {
    const server = await buildApp('');
    const token = await signWithJose(key, portalClaims());
    const fromCookie = await server.inject({ method: 'GET', url: '/page', cookies: { Authorization: token } });
    expect(fromCookie.statusCode).toBe(200);
    expect(fromCookie.headers['set-cookie']).toBeUndefined();

    const sameAgain = await server.inject({ method: 'GET', url: `/page?jwtToken=${token}`, cookies: { Authorization: token } });
    expect(sameAgain.headers['set-cookie']).toBeUndefined();
  });

  it('replaces an older cookie with a newer query token', async () => {
    const server = await buildApp('');
    const older = await signWithJose(key, portalClaims({ exp: epochSeconds(60) }));
    const newer = await signWithJose(key, portalClaims({ exp: epochSeconds(3600) }));
    const response = await server.inject({ method: 'GET', url: `/page?jwtToken=${newer}`, cookies: { Authorization: older } });
    expect(String(response.headers['set-cookie'])).toContain(`Authorization=${newer}`);
  });

  it('does not set a cookie for header tokens', async () => {
    const server = await buildApp('');
    const token = await signWithJose(key, portalClaims());
    const response = await server.inject({ method: 'GET', url: '/page', headers: { jwtToken: token } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('answers 401 missing_token with a hint when no token is given', async () => {
    const server = await buildApp('');
    const response = await server.inject({ method: 'GET', url: '/page' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      reason: 'missing_token',
      message: 'A Graphene token is required: open this page from Graphene or pass ?jwtToken=…',
    });
  });

  it('answers 401 for a bad query token and sets no cookie', async () => {
    const server = await buildApp('');
    const forged = await signWithJose(decodeJwtSecret('ZZZZ-ZZZZ', 'base64'), portalClaims());
    const response = await server.inject({ method: 'GET', url: `/page?jwtToken=${forged}` });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ reason: 'bad_signature' });
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('tells admins by role name', async () => {
    const server = await buildApp('', ['Admin', 'admin']);
    const admin = await signWithJose(key, portalClaims({ role: [{ name: 'Admin', active: true }] }));
    const user = await signWithJose(key, portalClaims({ role: ['Publisher', 'ADMIN'] }));
    expect((await server.inject({ method: 'GET', url: '/page', headers: { authorization: `Bearer ${admin}` } })).json()).toMatchObject({
      admin: true,
    });
    expect((await server.inject({ method: 'GET', url: '/page', headers: { authorization: user } })).json()).toMatchObject({
      admin: false,
    });
  });
});
