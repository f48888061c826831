import { Injectable } from '@nestjs/common';

/**
 * Counts the revocations and client deletions made through this instance. The in-process guard
 * caches what the deny list and the client table said about a token for `revocationCheckInterval`;
 * a change of this number makes it ask again at once, so that a revocation made here takes effect
 * here on the next request. Changes made by other instances (or the operator CLI) reach the guard
 * within the interval (ADR 0028).
 */
@Injectable()
export class LocalRevocations {
  private count = 0;

  /** A number that changes after every revocation or client deletion made through this instance. */
  get generation(): number {
    return this.count;
  }

  /** Called once a revocation or a client deletion is stored. */
  recorded(): void {
    this.count++;
  }
}
