import { KeyEncryptionKeyMismatchError } from '@clavis/server';

/**
 * One line for a key-encryption key that does not match the database, in the demo server's terms
 * (CLAVIS_KEK, data/dev-kek, the database it uses): what happened, which key the data needs (by
 * key id, never the key) and the ways out. Undefined for any other error.
 * @see docs/adr/0013-key-encryption-key-rotation.md
 */
export function describeKekMismatch(error: unknown, env: Record<string, string | undefined>): string | undefined {
  if (!(error instanceof KeyEncryptionKeyMismatchError)) return undefined;
  const dataDir = env.DATA_DIR || 'data';
  const configured = error.configuredKeyIds
    .map((id, i) => (i === 0 ? `${id} (current)` : `${id} (previous)`))
    .join(', ');
  const needed = error.dataKeyId
    ? `key id ${error.dataKeyId}`
    : 'a key that is not configured (the value predates key ids)';
  const the = error.dataKeyId ? `the key with id ${error.dataKeyId}` : 'the key it was written with';
  const fresh = env.DATABASE_URL
    ? 'for a development database only, start over with an empty one (drop and re-create the PostgreSQL database)'
    : `for a development database only, start over by removing ${env.SQLITE_PATH || `${dataDir}/`}`;
  const cause = `the database's data was encrypted with another key-encryption key: ${error.valueContext} needs ${needed}`;
  if (!env.CLAVIS_KEK) {
    return `${cause}, but CLAVIS_KEK is not set and the development key in ${dataDir}/dev-kek has key id ${error.configuredKeyIds[0]} (was ${dataDir}/dev-kek re-generated because ${dataDir}/ was removed?). Ways out: set CLAVIS_KEK (or restore ${dataDir}/dev-kek) to ${the}; or, ${fresh}.`;
  }
  return `${cause}, but CLAVIS_KEK holds key id(s) ${configured}. Ways out: set CLAVIS_KEK to ${the}; or, when rotating, keep it as a previous key after the new one (CLAVIS_KEK=<new key>,<old key>); or, ${fresh}.`;
}
