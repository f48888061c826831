import { NETWORK_FAILURE_CODES } from '../storage.js';

/** SQLSTATE classes and codes of PostgreSQL, and SQLite result codes, that mean "unavailable", not "a bug". */
const DATABASE_OUTAGE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
]);

/** Messages of pg, TypeORM and better-sqlite3 for a connection that is gone or never came. */
const DATABASE_OUTAGE_MESSAGE =
  /Connection terminated|connection is closed|timeout exceeded when trying to connect|The database connection is not open|Driver not Connected/i;

/** Whether a failure of the TypeORM DataSource (PostgreSQL or SQLite) means the database is unreachable. */
export function isDatabaseOutage(error: unknown): boolean {
  const e = error as {
    code?: unknown;
    driverError?: { code?: unknown };
    message?: unknown;
  } | null;
  if (!e || typeof e !== 'object') return false;
  const raw = e.driverError?.code ?? e.code;
  const code = typeof raw === 'string' ? raw : '';
  // SQLSTATE class 08: connection exceptions.
  if (NETWORK_FAILURE_CODES.has(code) || DATABASE_OUTAGE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  return typeof e.message === 'string' && DATABASE_OUTAGE_MESSAGE.test(e.message);
}

/** Whether a driver error is a unique/primary-key violation (PostgreSQL 23505, SQLite CONSTRAINT_*). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } } | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
