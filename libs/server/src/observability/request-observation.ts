/** What the metrics learn about one request while Clavis handles it (set by the authenticator and the error filter). */
export interface RequestObservation {
  /** The client authentication method: the registered one once the client is known, else the presented form. */
  method?: string;
  /** The OAuth error code the response carries; unset on success. */
  error?: string;
}

const OBSERVATION = Symbol('clavis.observation');

type Carrier = { [OBSERVATION]?: RequestObservation; raw?: Carrier };

/**
 * The request's observation, made on first use. It lives on Node's IncomingMessage, which an
 * Express request is and a Fastify request wraps as `raw`, so that the response hook finds it
 * whichever object the handler saw.
 */
export function observationOf(req: unknown): RequestObservation | undefined {
  if (!req || typeof req !== 'object') return undefined;
  const carrier = ((req as Carrier).raw ?? req) as Carrier;
  return (carrier[OBSERVATION] ??= {});
}

/** The observation of a request if anything was observed, without making one. */
export function peekObservation(req: unknown): RequestObservation | undefined {
  if (!req || typeof req !== 'object') return undefined;
  return ((req as Carrier).raw ?? (req as Carrier))[OBSERVATION];
}
