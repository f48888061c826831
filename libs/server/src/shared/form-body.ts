import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { OAuthError } from '../errors/oauth-error.js';

/** Parameters that may legitimately repeat (RFC 8707 §2). */
const MULTI_VALUED = new Set(['resource']);
const MAX_PARAMS = 32;

/** Parsed form parameters: single values, plus the multi-valued ones as lists. */
export interface FormParams {
  get(name: string): string | undefined;
  getAll(name: string): string[];
  has(name: string): boolean;
}

/**
 * The request as a controller receives it: Node's IncomingMessage (Express), or a framework request
 * that wraps it as `raw` (Fastify). `body` is set when the host's body parser already ran.
 */
export interface HttpRequest {
  headers: IncomingHttpHeaders;
  body?: unknown;
  raw?: IncomingMessage;
  ip?: string;
  socket?: { remoteAddress?: string };
  method?: string;
  url?: string;
}

type RequestLike = HttpRequest;

/** The Node stream carrying the body. */
function streamOf(req: RequestLike): IncomingMessage {
  return req.raw ?? (req as unknown as IncomingMessage);
}

/** Where the content type of a request is kept while the host's body parsers run (see docs/adr/0018). */
const HIDDEN_BODY_HEADERS = Symbol.for('clavis.hiddenBodyHeaders');
type Hideable = IncomingMessage & { [HIDDEN_BODY_HEADERS]?: { 'content-type'?: string } };

/**
 * Keeps the host's body parsers (Express's body-parser, Fastify's content-type parsers) off a
 * request that one of Clavis's endpoints will read, so that the stream reaches Clavis unread: its
 * own size limits, duplicate-parameter checks and RFC error shapes then apply whatever parsers the
 * host has. Parsers choose by content type, so the content type is put aside (or replaced by
 * `as`, one whose parser leaves the stream unread); the length headers stay, so that the framework
 * and Node still know the request has a body. The content type comes back when Clavis reads the body.
 */
export function hideBodyFromHostParsers(raw: IncomingMessage, as?: { contentType: string }): void {
  const req = raw as Hideable;
  if (req[HIDDEN_BODY_HEADERS]) return;
  const type = req.headers['content-type'];
  req[HIDDEN_BODY_HEADERS] = type === undefined ? {} : { 'content-type': type };
  if (as) req.headers['content-type'] = as.contentType;
  else delete req.headers['content-type'];
}

/** Puts hidden body headers back; true when they had been hidden (the stream is then unread). */
function restoreBodyHeaders(req: RequestLike): boolean {
  const raw = streamOf(req) as Hideable;
  const kept = raw[HIDDEN_BODY_HEADERS];
  if (!kept) return false;
  delete raw[HIDDEN_BODY_HEADERS];
  if (!kept['content-type']) delete raw.headers['content-type'];
  Object.assign(raw.headers, kept);
  // Fastify's request.headers may be a copy of the raw headers (when a hook added headers).
  if (req !== raw && req.headers !== raw.headers) Object.assign(req.headers, kept);
  return true;
}

/** The body as the host's parser left it: undefined when Clavis reads the stream itself. */
function parsedBody(req: RequestLike): unknown {
  return restoreBodyHeaders(req) ? undefined : req.body;
}

/**
 * Reads an `application/x-www-form-urlencoded` body. Uses what the host's body parser produced
 * when it ran; otherwise reads the stream itself, bounded by `limit` bytes.
 * Rejects other content types, repeated parameters (RFC 6749 §3.1) and oversized bodies.
 */
export async function readForm(req: RequestLike, limit: number): Promise<FormParams> {
  const body = parsedBody(req);
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw OAuthError.invalidRequest(
      'the request body must be application/x-www-form-urlencoded',
      `content-type ${type || 'missing'}`,
    );

  const entries: [string, string][] = [];
  if (body !== undefined && body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    // The host parsed it already: repeated names arrive as arrays.
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (Array.isArray(v))
        for (const item of v) entries.push([k, typeof item === 'string' ? item : JSON.stringify(item)]);
      else entries.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
    }
  } else {
    const raw = Buffer.isBuffer(body) ? body : await readStream(streamOf(req), limit);
    if (raw.length > limit) throw tooLarge(raw.length, limit);
    for (const entry of new URLSearchParams(raw.toString('utf8'))) entries.push(entry);
  }
  return toParams(entries);
}

/** Reads a JSON body the same way (host-parsed object, or the raw stream bounded by `limit`). */
export async function readJson(
  req: RequestLike,
  limit: number,
  onError: (description: string) => Error,
): Promise<unknown> {
  const body = parsedBody(req);
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw onError('the request body must be application/json');
  if (body !== undefined && body !== null && !Buffer.isBuffer(body) && typeof body === 'object') return body;
  let raw: Buffer;
  try {
    raw = Buffer.isBuffer(body) ? body : await readStream(streamOf(req), limit);
  } catch (e) {
    if (e instanceof OAuthError) throw onError(`the request body exceeds ${limit} bytes`);
    throw e;
  }
  if (raw.length > limit) throw onError(`the request body exceeds ${limit} bytes`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw onError('the request body is not valid JSON');
  }
}

function toParams(entries: [string, string][]): FormParams {
  if (entries.length > MAX_PARAMS)
    throw OAuthError.invalidRequest('too many parameters', `${entries.length} parameters`);
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const [name, value] of entries) {
    if (value === '') continue; // RFC 6749 §3.1: a parameter without a value is treated as omitted
    if (MULTI_VALUED.has(name)) {
      multi.set(name, [...(multi.get(name) ?? []), value]);
      continue;
    }
    if (single.has(name))
      throw OAuthError.invalidRequest(`parameter ${safeName(name)} is repeated`, `duplicate ${safeName(name)}`);
    single.set(name, value);
  }
  return {
    get: (name) => single.get(name) ?? multi.get(name)?.[0],
    getAll: (name) => multi.get(name) ?? (single.has(name) ? [single.get(name)!] : []),
    has: (name) => single.has(name) || multi.has(name),
  };
}

function safeName(name: string): string {
  return /^[a-z_]{1,40}$/.test(name) ? name : '(invalid name)';
}

function tooLarge(size: number, limit: number): OAuthError {
  return new OAuthError('invalid_request', `the request body exceeds ${limit} bytes`, 413, `body of ${size} bytes`);
}

function readStream(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain, so the connection can answer
    return Promise.reject(tooLarge(declared, limit));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onErr);
      if (err) {
        req.resume();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(tooLarge(size, limit));
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onErr = () => finish(OAuthError.invalidRequest('the request body could not be read'));
    req.on('data', onData).on('end', onEnd).on('error', onErr);
  });
}
