/**
 * Source of the current time, in milliseconds since the epoch. Tests inject a fixed clock instead of sleeping.
 * @see RFC 7519 §4.1.4
 */
export interface Clock {
  now(): number;
}

/**
 * The wall clock.
 * @see RFC 7519 §4.1.4
 */
export const systemClock: Clock = { now: () => Date.now() };
