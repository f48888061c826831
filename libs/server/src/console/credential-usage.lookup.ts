/**
 * Where the console reads when each of a client's credentials was last used: credential id →
 * seconds since the epoch. Optional: without it, the pages say "not tracked".
 */
export abstract class CredentialUsageLookup {
  abstract lastUsed(clientId: string): Promise<Map<string, number>>;
}
