import { ensureGeneratedSecret } from '../../adapters/crypto/generated-secret.js';
import { ConfigError } from '../../errors.js';

/**
 * The HMAC key shared with the Graphene portal.
 *
 * Graphene's services (portal, CREO, the playground deployer) verify tokens with jjwt 0.9.1:
 * `Jwts.parser().setSigningKey(secretString)`. jjwt turns that string into key bytes with
 * `io.jsonwebtoken.impl.Base64Codec.decode`, which on a standard JVM is
 * `javax.xml.bind.DatatypeConverter.parseBase64Binary` (JAXB's `DatatypeConverterImpl`). That
 * decoder, reproduced exactly below, behaves as follows:
 *
 * - a 128-entry table maps `A-Z a-z 0-9 + /` to 0..63 and `=` to a PADDING marker (127); every
 *   other ASCII character (`-`, spaces, newlines, `_`, `.`) is skipped silently. A character
 *   at or above U+0080 indexes past the table and throws ArrayIndexOutOfBoundsException.
 * - kept characters (padding included) are grouped in fours. Each quadruplet gives byte
 *   `q0<<2 | q1>>4`; then `q1<<4 | q2>>2` unless q2 is `=`; then `q2<<6 | q3` unless q3 is `=`
 *   (each truncated to 8 bits — so a `=` in the middle yields odd bytes instead of an error).
 * - a trailing group of fewer than four characters is DROPPED (not decoded as if padded): up to
 *   18 bits of the secret silently do not count. `QUJDRA` gives `ABC`, not `ABCD`.
 * - the output buffer is pre-sized by `guessLength` (length/4*3 minus trailing `=` count, or the
 *   upper bound when the text ends with a skipped character or more than two `=`). When that
 *   guess is too small (e.g. `AAAAA=`), writing past it throws ArrayIndexOutOfBoundsException.
 * - zero key bytes make `new SecretKeySpec` throw "Empty key".
 *
 * A UUID-like secret such as `f0a1b2c3-d4e5-...` therefore loses its dashes: 32 hex digits →
 * eight quadruplets → 24 key bytes. Where Java would throw, Graphene itself cannot use the
 * secret, so we refuse it at boot with a ConfigError rather than guess.
 */
export type JwtSecretEncoding = 'base64' | 'utf8';

const PADDING = 127;
const SKIPPED = -1;
const DEV_SECRET_FILE = 'dev-jwt-secret';

const DECODE_MAP: readonly number[] = buildDecodeMap();

function buildDecodeMap(): number[] {
  const map = new Array<number>(128).fill(SKIPPED);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) map[alphabet.charCodeAt(i)] = i;
  map['='.charCodeAt(0)] = PADDING;
  return map;
}

function decodeValue(text: string, index: number): number {
  const code = text.charCodeAt(index);
  const value = DECODE_MAP[code];
  if (value === undefined) {
    throw new ConfigError([
      `JWT_SECRET has a non-ASCII character at position ${index + 1}; Graphene's base64 decoder (jjwt 0.9.1) cannot read it either`,
    ]);
  }
  return value;
}

/** JAXB `guessLength`: the buffer size Java allocates before decoding. */
function guessLength(text: string): number {
  const upperBound = Math.floor(text.length / 4) * 3;
  let j = text.length - 1;
  for (; j >= 0; j--) {
    const value = decodeValue(text, j);
    if (value === PADDING) continue;
    if (value === SKIPPED) return upperBound;
    break;
  }
  const padSize = text.length - (j + 1);
  return padSize > 2 ? upperBound : upperBound - padSize;
}

/** `DatatypeConverter.parseBase64Binary`, byte for byte, including where it throws. */
export function parseBase64BinaryLikeJava(text: string): Uint8Array {
  const capacity = guessLength(text);
  const out: number[] = [];
  const push = (byte: number): void => {
    if (out.length >= capacity) {
      throw new ConfigError([
        'JWT_SECRET cannot be base64-decoded by Graphene (jjwt 0.9.1 fails on it: trailing "=" after an incomplete group); fix the secret in Graphene and here',
      ]);
    }
    out.push(byte & 0xff);
  };
  const quad: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const value = decodeValue(text, i);
    if (value !== SKIPPED) quad.push(value);
    if (quad.length === 4) {
      const [q0, q1, q2, q3] = quad as [number, number, number, number];
      push((q0 << 2) | (q1 >> 4));
      if (q2 !== PADDING) push((q1 << 4) | (q2 >> 2));
      if (q3 !== PADDING) push((q2 << 6) | q3);
      quad.length = 0;
    }
  }
  return Uint8Array.from(out);
}

/**
 * The HMAC key bytes for a configured secret. `base64` (the default, what Graphene does) decodes
 * leniently as described above; `utf8` uses the string's UTF-8 bytes, for services that share a
 * plain-text secret.
 */
export function decodeJwtSecret(secret: string, encoding: JwtSecretEncoding): Uint8Array {
  const key = encoding === 'utf8' ? new TextEncoder().encode(secret) : parseBase64BinaryLikeJava(secret);
  if (key.length === 0) {
    throw new ConfigError([
      encoding === 'utf8'
        ? 'JWT_SECRET is empty'
        : 'JWT_SECRET decodes to no key bytes (it has fewer than four base64 characters once "-" and other non-base64 characters are skipped)',
    ]);
  }
  return key;
}

/**
 * The secret for the embedded setup when JWT_SECRET is absent: `<dataDir>/dev-jwt-secret`, made
 * once, so tokens printed at startup stay valid across restarts. Never used when JWT_SECRET is set.
 */
export async function ensureDevSecret(dataDir: string): Promise<string> {
  return ensureGeneratedSecret(dataDir, DEV_SECRET_FILE);
}
