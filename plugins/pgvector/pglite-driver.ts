import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import type { Connection, Driver, QueryResult, Queryable, Session } from './driver.js'
import { acquireDataDirLock } from './data-dir-lock.js'
import { quoteIdent } from './identifiers.js'

const INT8_OID = 20

type Runner = Pick<PGlite, 'query'> | Transaction

function queryable(db: Runner): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await db.query<T>(sql, params as unknown[] | undefined)
      return { rows: r.rows }
    },
    async copyIn(table, columns, data) {
      const sql = `COPY ${table} (${columns.map(quoteIdent).join(', ')}) FROM '/dev/blob' (FORMAT binary)`
      await db.query(sql, [], { blob: new Blob([data]) })
    },
  }
}

function connectionOf(db: PGlite): Connection {
  return {
    ...queryable(db),
    native: false,
    async script(statements) {
      try {
        const results = await db.exec(statements.join(';\n'))
        return results.map((r) => ({ rows: r.rows as Record<string, unknown>[] }))
      } catch (err) {
        await db.exec('ROLLBACK').catch(() => undefined)
        throw err
      }
    },
  }
}

/** Embedded PostgreSQL in WASM; one backend, so a session is just the database itself. */
export class PgliteDriver implements Driver {
  readonly native = false
  /** One backend: `connection` callers take turns, so each has the temp tables to itself. */
  private connectionTurn: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly db: PGlite,
    private readonly unlock: () => void,
  ) {}

  static async open(dataDir: string): Promise<PgliteDriver> {
    const inMemory = dataDir.startsWith('memory://')
    let unlock = () => undefined as void
    if (!inMemory) {
      mkdirSync(dirname(dataDir), { recursive: true })
      unlock = acquireDataDirLock(dataDir)
    }
    try {
      // int8 stays a string, as node-postgres returns it, so RowKey values look the same on both drivers.
      const db = await PGlite.create(dataDir, { extensions: { vector }, parsers: { [INT8_OID]: (v: string) => v } })
      await db.exec('CREATE EXTENSION IF NOT EXISTS vector')
      return new PgliteDriver(db, unlock)
    } catch (err) {
      unlock()
      throw err
    }
  }

  query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    return queryable(this.db).query<T>(sql, params)
  }

  copyIn(table: string, columns: string[], data: Buffer): Promise<void> {
    return queryable(this.db).copyIn(table, columns, data)
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(queryable(tx)))
  }

  connection<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    const run = this.connectionTurn.then(() => fn(connectionOf(this.db)))
    this.connectionTurn = run.catch(() => undefined)
    return run
  }

  async session(): Promise<Session> {
    return { ...queryable(this.db), release: async () => undefined }
  }

  async close(): Promise<void> {
    try {
      await this.db.close()
    } finally {
      this.unlock()
    }
  }
}
