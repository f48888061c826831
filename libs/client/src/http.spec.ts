import { ClavisClientError } from './errors.js';
import { bearerChallenge, parseChallenges, readText } from './http.js';

/** A string that counts the characters the parser reads (charCodeAt, and slice by its length). */
function counting(value: string) {
  let reads = 0;
  const text = {
    length: value.length,
    charCodeAt: (i: number) => (reads++, value.charCodeAt(i)),
    slice: (a: number, b?: number) => {
      const part = value.slice(a, b);
      reads += part.length;
      return part;
    },
  };
  return { text: text as unknown as string, reads: () => reads };
}

describe('parseChallenges', () => {
  it('reads RFC 9110 / RFC 6750 challenges: several schemes, quoted and plain values, token68', () => {
    expect(
      parseChallenges(
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", Bearer realm="api", error="invalid_token", ' +
          'error_description="the access token expired", Other dXNlcjpwYXNz==',
      ),
    ).toEqual([
      {
        scheme: 'Newauth',
        params: { realm: 'apps', type: '1', title: 'Login to "apps"' },
      },
      { scheme: 'Basic', params: { realm: 'simple' } },
      {
        scheme: 'Bearer',
        params: {
          realm: 'api',
          error: 'invalid_token',
          error_description: 'the access token expired',
        },
      },
      { scheme: 'Other', params: {}, token68: 'dXNlcjpwYXNz==' },
    ]);
    expect(bearerChallenge('bearer ERROR=invalid_token, error=second')).toEqual({ error: 'invalid_token' });
    expect(bearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(bearerChallenge('Bearer')).toEqual({});
  });

  it('survives adversarial headers, keeping what it can read', () => {
    expect(bearerChallenge('Bearer error="unterminated')).toEqual({
      error: 'unterminated',
    });
    expect(bearerChallenge(',,, ,Bearer ,error = "x" ,, realm=')).toEqual({
      error: 'x',
      realm: '',
    });
    expect(bearerChallenge('"junk" Bearer error="x"')).toEqual({ error: 'x' });
    const proto = bearerChallenge('Bearer __proto__="x", error="y"')!;
    expect(Object.entries(proto)).toEqual([
      ['__proto__', 'x'],
      ['error', 'y'],
    ]);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });

  // The old regex parser backtracked over a run of token characters once per starting position:
  // 16 KB of them cost ~0.25 s. Here every character is read a bounded number of times.
  it.each([
    ['a run of token characters', (n: number) => `Bearer ${'a'.repeat(n)}`],
    ['names without values', (n: number) => `Bearer ${'a '.repeat(n / 2)}`],
    ['commas and spaces', (n: number) => `Bearer ${', '.repeat(n / 2)}`],
    ['an unterminated quote of escapes', (n: number) => `Bearer error="${'\\"'.repeat(n / 2)}`],
    ['parameters without commas', (n: number) => `Bearer ${'a=b '.repeat(n / 4)}`],
    ['equals signs', (n: number) => `Bearer ${'='.repeat(n)}`],
    ['token68 look-alikes', (n: number) => `Bearer ${'a='.repeat(n / 2)}x`],
  ])('reads each character a bounded number of times: %s', (_, make) => {
    const readsFor = (size: number) => {
      const { text, reads } = counting(make(size));
      parseChallenges(text);
      return reads();
    };
    const [small, large] = [readsFor(16_384), readsFor(65_536)];
    expect(large).toBeLessThanOrEqual(16 * (65_536 + 20)); // at most 16 reads per character
    expect(large / small).toBeLessThan(4.2); // 4× the input, 4× the work (quadratic: 16×)
  });
});

describe('readText', () => {
  it('refuses a declared Content-Length over the limit without reading, and stops a longer stream at the limit', async () => {
    const declared = new Response('x'.repeat(100), {
      headers: { 'content-length': '100' },
    });
    await expect(readText(declared, 99)).rejects.toMatchObject({
      code: 'response_too_large',
    });
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(10_000));
      },
    });
    const error = await readText(new Response(stream), 65_536).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClavisClientError);
    expect(error).toMatchObject({ code: 'response_too_large' });
    expect(pulled).toBeLessThanOrEqual(9);
    expect(await readText(new Response('{"a":1}'), 7)).toBe('{"a":1}');
  });
});
