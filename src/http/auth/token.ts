/**
 * Where a Graphene token can come from, in the reference deployers' order (graphene.md §2):
 * request parameter `jwtToken` (how the portal opens a deployer page), header `jwtToken`,
 * header `Authorization` (the raw token as the playground deployer expects, or `Bearer <token>`),
 * and the `Authorization` cookie that CREO sets after the first visit.
 *
 * Empty values are treated as absent so that a blank `?jwtToken=` still falls through to the
 * cookie. An `Authorization` header with another scheme (`Basic …`, set by a proxy) is not a
 * Graphene token and is skipped rather than reported as malformed.
 */
export type TokenSource = 'query' | 'header' | 'authorization' | 'cookie';

export interface FoundToken {
  token: string;
  source: TokenSource;
}

export interface TokenCarriers {
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  cookies: Record<string, string | undefined>;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** First non-blank string; repeated parameters or headers arrive as arrays. */
function firstValue(value: unknown): string | undefined {
  const values: unknown[] = Array.isArray(value) ? value : [value];
  for (const candidate of values) {
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate.trim();
  }
  return undefined;
}

/** Node lower-cases incoming header names; callers building headers by hand may not. */
function header(headers: TokenCarriers['headers'], name: string): unknown {
  const lower = name.toLowerCase();
  if (lower in headers) return headers[lower];
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : headers[key];
}

/** `Bearer <token>` → token; a bare token (no whitespace) as is; any other scheme → undefined. */
function tokenFromCredentials(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bearer = BEARER.exec(value);
  if (bearer) return bearer[1];
  return /\s/.test(value) ? undefined : value;
}

export function extractToken(parts: TokenCarriers): FoundToken | undefined {
  const fromQuery = firstValue(parts.query.jwtToken);
  if (fromQuery !== undefined) return { token: fromQuery, source: 'query' };

  const fromHeader = firstValue(header(parts.headers, 'jwtToken'));
  if (fromHeader !== undefined) return { token: fromHeader, source: 'header' };

  const fromAuthorization = tokenFromCredentials(firstValue(header(parts.headers, 'authorization')));
  if (fromAuthorization !== undefined) return { token: fromAuthorization, source: 'authorization' };

  const fromCookie = tokenFromCredentials(firstValue(parts.cookies.Authorization));
  if (fromCookie !== undefined) return { token: fromCookie, source: 'cookie' };

  return undefined;
}
