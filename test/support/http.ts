import { expect } from 'vitest';

/** POSTs a form (as application/x-www-form-urlencoded, params may repeat). */
export async function postForm(
  url: string,
  params: Record<string, string | string[]> | [string, string][],
  headers: Record<string, string> = {},
) {
  const body = new URLSearchParams();
  const entries = Array.isArray(params)
    ? params
    : Object.entries(params).flatMap(([k, v]) =>
        Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]],
      );
  for (const [k, v] of entries) body.append(k, v);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: body.toString(),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** `Authorization: Basic` per RFC 6749 §2.3.1 (form-encode, then base64). */
export function basic(clientId: string, secret: string): Record<string, string> {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return { authorization: `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}` };
}

/** Asserts an exact RFC 6749 §5.2 error response. */
export function expectOAuthError(
  res: { status: number; json: any; headers: Headers },
  status: number,
  error: string,
): void {
  expect({ status: res.status, error: res.json?.error }).toEqual({ status, error });
  expect(typeof res.json.error_description).toBe('string');
  expect(Object.keys(res.json).sort()).toEqual(['error', 'error_description']);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.json.access_token).toBeUndefined();
}
