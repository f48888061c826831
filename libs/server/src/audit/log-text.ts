/** C0 and C1 controls (CR, LF, ESC …), DEL, format characters (bidi overrides, zero-width) and line/paragraph separators. */
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * An untrusted string made safe for a log line: every control, format and separator character
 * becomes a `\uXXXX` escape (valid inside JSON strings too), so that a value from a request or from
 * stored client metadata cannot start a forged log entry or drive a terminal.
 * @see docs/adr/0012-edge-trust-and-revocation.md
 */
export function escapeLogText(value: string): string {
  return value.replace(UNSAFE, (c) =>
    c
      .split('')
      .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join(''),
  );
}

/** An audit event (or any flat record) with every string member passed through {@link escapeLogText}. */
export function escapeStrings<T extends object>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record))
    out[k] =
      typeof v === 'string'
        ? escapeLogText(v)
        : Array.isArray(v)
          ? v.map((x) => (typeof x === 'string' ? escapeLogText(x) : x))
          : v;
  return out as T;
}
