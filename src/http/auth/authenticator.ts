import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import { UnauthorizedError } from '../../errors.js';
import { MISSING_TOKEN_MESSAGE, verifyGrapheneToken, type Principal } from './jwt.js';
import { extractToken } from './token.js';

/** Cookie CREO uses to carry the token from the GET form page to the POST that follows. */
export const TOKEN_COOKIE = 'Authorization';

export interface AuthenticatorOptions {
  /** HMAC key bytes (see decodeJwtSecret). */
  key: Uint8Array;
  /** '' or a prefix such as '/creodias-deployer'; the cookie is scoped to it. */
  basePath: string;
  /** Role names that may read and act on everyone's records. */
  adminRoles: string[];
}

export interface Authenticator {
  /** The request's Graphene principal; throws UnauthorizedError (401) otherwise. */
  authenticate(request: FastifyRequest, reply: FastifyReply): Promise<Principal>;
  isAdmin(principal: Principal): boolean;
}

function queryRecord(query: unknown): Record<string, unknown> {
  return typeof query === 'object' && query !== null ? (query as Record<string, unknown>) : {};
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const adminRoles = new Set(options.adminRoles);
  const cookiePath = options.basePath === '' ? '/' : options.basePath;

  return {
    async authenticate(request, reply) {
      const cookies = request.cookies ?? {};
      const found = extractToken({ query: queryRecord(request.query), headers: request.headers, cookies });
      if (found === undefined) throw new UnauthorizedError('missing_token', MISSING_TOKEN_MESSAGE);

      const principal = await verifyGrapheneToken(found.token, options.key);

      // Like CREO: a page opened from Graphene with ?jwtToken= keeps the token in a cookie so
      // the form POST and later links work. Unlike CREO, a newer token replaces an older cookie,
      // and the cookie is SameSite=Lax (Secure over https) so other sites cannot post with it.
      if (found.source === 'query' && cookies[TOKEN_COOKIE] !== found.token) {
        reply.setCookie(TOKEN_COOKIE, found.token, {
          httpOnly: true,
          path: cookiePath,
          sameSite: 'lax',
          secure: request.protocol === 'https',
        });
      }
      return principal;
    },

    isAdmin(principal) {
      return principal.roles.some((role) => adminRoles.has(role));
    },
  };
}
