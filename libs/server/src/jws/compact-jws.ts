/**
 * The one parser of compact JWS for both JWS backends, so that both accept exactly the same forms:
 * three base64url segments, JSON objects for header and payload, no `crit` and no `b64` header
 * (docs/adr/0011-one-key-per-assertion.md). Signatures are checked by a {@link JwsBackend}; claims by the caller.
 */
export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** A JWS that is not of the accepted compact form; the message says why (never request bytes). */
export class JwsFormatError extends Error {}

export function decodeJws(token: string): DecodedJws {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw new JwsFormatError('not a compact JWS');
  const header = parseObject(parts[0], 'header');
  const payload = parseObject(parts[1], 'payload');
  if ('crit' in header) throw new JwsFormatError('crit is not supported');
  if ('b64' in header) throw new JwsFormatError('b64 is not supported');
  return {
    header,
    payload,
    signingInput: Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
    signature: Buffer.from(parts[2], 'base64url'),
  };
}

function parseObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new JwsFormatError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new JwsFormatError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}
