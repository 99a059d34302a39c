import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { UnauthorizedError } from '../../errors.js';

/**
 * Verification of the tokens the Graphene portal issues (graphene.md §2), as its deployers do
 * with jjwt 0.9.1: HMAC only, the algorithm taken from the token header (the portal signs
 * HS512), `exp` required and in the future. Every failure is an UnauthorizedError with a stable
 * `reason`; no jose error escapes, and no message contains the token.
 */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

export const AUTH_FAILURE_REASONS = {
  missingToken: 'missing_token',
  malformedToken: 'malformed_token',
  unsupportedAlgorithm: 'unsupported_algorithm',
  badSignature: 'bad_signature',
  expired: 'expired',
  missingExp: 'missing_exp',
  noSubject: 'no_subject',
} as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[keyof typeof AUTH_FAILURE_REASONS];

export interface Principal {
  /** Who the records belong to: `mlpuser.email`, else `sub` (what the reference deployers use). */
  user: string;
  loginName?: string;
  userId?: string;
  /** Role names from the `role` claim (the portal writes MLRole objects; plain strings accepted). */
  roles: string[];
  expiresAt: Date;
}

/**
 * Longest token we look at. A portal token (user object plus roles) is a few KB; anything far
 * larger is refused before any decoding or crypto work.
 */
export const MAX_TOKEN_LENGTH = 32 * 1024;

export const MISSING_TOKEN_MESSAGE =
  'A Graphene token is required: open this page from Graphene or pass ?jwtToken=…';

const ALLOWED = new Set<string>(HMAC_ALGORITHMS);
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function fail(reason: AuthFailureReason, message: string): UnauthorizedError {
  return new UnauthorizedError(reason, message);
}

function malformed(why: string): UnauthorizedError {
  return fail('malformed_token', `The Graphene token is malformed: ${why}`);
}

/** Checks shape and header before any crypto, so each refusal gets a precise reason. */
function checkHeader(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) throw malformed(`it is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!COMPACT_JWS.test(token)) {
    throw malformed('a token is three base64url parts separated by dots (header.payload.signature)');
  }
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw malformed('its header is not base64url-encoded JSON');
  }
  if (typeof alg !== 'string' || !ALLOWED.has(alg)) {
    const named = typeof alg === 'string' && /^[A-Za-z0-9+._-]{1,16}$/.test(alg) ? ` "${alg}"` : '';
    throw fail(
      'unsupported_algorithm',
      `The Graphene token uses algorithm${named || ' (missing or invalid)'}; only ${HMAC_ALGORITHMS.join(', ')} are accepted`,
    );
  }
}

/** Maps whatever jose throws to our reasons; unknown failures count as "could not verify". */
function translateJoseError(error: unknown): UnauthorizedError {
  if (error instanceof joseErrors.JWTExpired) {
    const exp = error.payload.exp;
    const when = typeof exp === 'number' ? ` at ${new Date(exp * 1000).toISOString()}` : '';
    if (error.claim === 'exp') {
      return fail('expired', `The Graphene token expired${when}; open the page from Graphene again for a fresh one`);
    }
    return fail('expired', 'The Graphene token is too old; open the page from Graphene again for a fresh one');
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing') {
      return fail('missing_exp', 'The Graphene token has no expiry (exp claim); tokens without one are refused');
    }
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      // Outside its validity window, like an expired one; the portal never sets nbf.
      return fail('expired', 'The Graphene token is not valid yet (nbf claim is in the future)');
    }
    return malformed(`its "${error.claim}" claim is invalid`);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return fail(
      'bad_signature',
      "The Graphene token's signature does not match: JWT_SECRET must equal the portal's jwt.auth.secret.key",
    );
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return fail('unsupported_algorithm', `Only ${HMAC_ALGORITHMS.join(', ')} tokens are accepted`);
  }
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) {
    return malformed('its payload or signature is not valid JWS/JWT encoding');
  }
  return fail('bad_signature', 'The Graphene token could not be verified');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** `userId` is a string UUID in CDS; tolerate a number from other issuers. */
function idString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return nonEmptyString(value);
}

/**
 * The portal puts `List<MLRole>` in `role`: objects `{roleId, name, active, …}`. Other issuers
 * (and hand-made tokens) use plain strings. A role object marked `active: false` grants nothing.
 */
export function rolesFromClaim(claim: unknown): string[] {
  const entries = Array.isArray(claim) ? claim : claim === undefined || claim === null ? [] : [claim];
  const names: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') {
      if (entry.trim() !== '') names.push(entry);
    } else if (isRecord(entry) && entry.active !== false) {
      const name = nonEmptyString(entry.name);
      if (name !== undefined) names.push(name);
    }
  }
  return [...new Set(names)];
}

function principalFrom(payload: JWTPayload): Principal {
  const mlpuser = isRecord(payload.mlpuser) ? payload.mlpuser : {};
  const sub = nonEmptyString(payload.sub);
  const user = nonEmptyString(mlpuser.email) ?? sub;
  if (user === undefined) {
    throw fail('no_subject', 'The Graphene token names no user: it has neither mlpuser.email nor sub');
  }
  // exp is present and numeric (jose checked both), but JSON allows 1e400 = Infinity.
  const expiresAt = new Date((payload.exp ?? 0) * 1000);
  if (Number.isNaN(expiresAt.getTime())) throw malformed('its "exp" claim is not a usable date');
  const principal: Principal = { user, roles: rolesFromClaim(payload.role), expiresAt };
  const loginName = nonEmptyString(mlpuser.loginName) ?? sub;
  if (loginName !== undefined) principal.loginName = loginName;
  const userId = idString(mlpuser.userId);
  if (userId !== undefined) principal.userId = userId;
  return principal;
}

/** Verifies a Graphene token and returns who it names; throws UnauthorizedError otherwise. */
export async function verifyGrapheneToken(token: string, key: Uint8Array, now: Date = new Date()): Promise<Principal> {
  if (token.trim() === '') throw fail('missing_token', MISSING_TOKEN_MESSAGE);
  checkHeader(token);
  let payload: JWTPayload;
  // jose counts a token as expired from the second `exp` names, jjwt only after that instant;
  // the one-second difference is immaterial for 30-minute portal tokens.
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [...HMAC_ALGORITHMS],
      requiredClaims: ['exp'],
      currentDate: now,
    }));
  } catch (error: unknown) {
    throw translateJoseError(error);
  }
  return principalFrom(payload);
}
