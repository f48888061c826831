/** Source of the current time. Inject a fixed clock in tests instead of sleeping. */
export abstract class Clock {
  /** Current time in milliseconds since the epoch. */
  abstract now(): number;

  /** Current time in whole seconds since the epoch. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Current time as a Date (for jose's `currentDate`). */
  date(): Date {
    return new Date(this.now());
  }
}

/** The wall clock. */
export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock that only moves when told to. */
export class FixedClock extends Clock {
  constructor(private current = Date.now()) {
    super();
  }
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}
