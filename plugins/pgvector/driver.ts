/**
 * The only thing the adapter knows about a connection: run SQL, run a transaction, COPY a
 * buffer in, hold one session open. Native PostgreSQL (pg Pool) and PGlite both implement it,
 * so every SQL statement of the adapter is shared between them.
 */

export interface QueryResult<T> {
  rows: T[]
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>
  /** `COPY … FROM STDIN (FORMAT binary)`; the driver rewrites the source for PGlite. */
  copyIn(table: string, columns: string[], data: Buffer): Promise<void>
}

/** One connection held across statements: temp tables and session state carry from one to the next. */
export interface Connection extends Queryable {
  /** As Driver.native: false on PGlite, whose one backend no other session shares. */
  readonly native: boolean
  /**
   * Statements without parameters, sent in one round trip; the rows each one returned. When one
   * fails the rest are skipped and an open transaction is rolled back, so the connection is
   * clean again.
   */
  script(statements: string[]): Promise<QueryResult<Record<string, unknown>>[]>
}

/** A connection kept for a while (advisory locks, index builds with session settings). */
export interface Session extends Queryable {
  release(): Promise<void>
}

/** A LISTEN held on its own connection. */
export interface Listening {
  close(): Promise<void>
}

export interface Driver extends Queryable {
  /** true on a PostgreSQL server; false on PGlite (one backend, no CONCURRENTLY, no parallel work). */
  readonly native: boolean
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * A connection for the length of `fn`, given back clean afterwards. No other `connection` runs
   * on it meanwhile, so its temp tables are `fn`'s alone.
   */
  connection<T>(fn: (c: Connection) => Promise<T>): Promise<T>
  session(): Promise<Session>
  /**
   * LISTEN on `channel` over a connection of its own; `onLost` once that connection dies. Absent
   * on PGlite (one process: nothing else writes while embedform holds the data directory).
   */
  listen?(channel: string, onNotify: (payload: string) => void, onLost: (err: unknown) => void): Promise<Listening>
  close(): Promise<void>
}

/** SQLSTATE of an error thrown by either driver, if it has one. */
export function sqlState(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code
  }
  return undefined
}
