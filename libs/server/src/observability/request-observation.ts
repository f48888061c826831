/** What the metrics learn about one request while Clavis handles it (set by the authenticator and the error filter). */
export interface RequestObservation {
  /** The client authentication method: the registered one once the client is known, else the presented form. */
  method?: string;
  /** The OAuth error code the response carries; unset on success. */
  error?: string;
}

const OBSERVATION = Symbol('clavis.observation');

type Carrier = { [OBSERVATION]?: RequestObservation; raw?: unknown };

/** Starts observing a request (Node's IncomingMessage, which both Express and Fastify requests wrap or are). */
export function startObservation(raw: object): RequestObservation {
  const observation: RequestObservation = {};
  (raw as Carrier)[OBSERVATION] = observation;
  return observation;
}

/** The request's observation, when metrics observe it (a Fastify request is looked up through its `raw`). */
export function observationOf(req: unknown): RequestObservation | undefined {
  if (!req || typeof req !== 'object') return undefined;
  const carrier = req as Carrier;
  return carrier[OBSERVATION] ?? (carrier.raw as Carrier | undefined)?.[OBSERVATION];
}
