import pg from 'pg'
import copyStreams from 'pg-copy-streams'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import type { Connection, Driver, Listening, QueryResult, Queryable, Session } from './driver.js'
import { quoteIdent } from './identifiers.js'

type Client = pg.PoolClient | pg.Pool

async function run<T>(client: Client, sql: string, params?: unknown[]): Promise<QueryResult<T>> {
  const r = await client.query(sql, params as unknown[] | undefined)
  return { rows: r.rows as T[] }
}

function copySql(table: string, columns: string[]): string {
  return `COPY ${table} (${columns.map(quoteIdent).join(', ')}) FROM STDIN (FORMAT binary)`
}

function clientQueryable(client: pg.PoolClient): Queryable {
  return {
    query: (sql, params) => run(client, sql, params),
    async copyIn(table, columns, data) {
      const stream = client.query(copyStreams.from(copySql(table, columns)))
      await pipeline(Readable.from([data]), stream)
    },
  }
}

function clientConnection(client: pg.PoolClient): Connection {
  return {
    ...clientQueryable(client),
    native: true,
    async script(statements) {
      try {
        // Without parameters node-postgres sends the simple query protocol: several statements, one round trip.
        const r = (await client.query(statements.join(';\n'))) as pg.QueryResult | pg.QueryResult[]
        return (Array.isArray(r) ? r : [r]).map((x) => ({ rows: x.rows as Record<string, unknown>[] }))
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw err
      }
    },
  }
}

/** node-postgres Pool: transactions and sessions check out a dedicated client. */
export class PgDriver implements Driver {
  readonly native = true
  private readonly pool: pg.Pool

  constructor(
    private readonly url: string,
    max = 4,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max, application_name: 'embedform' })
    // An idle client losing its connection (server restart) must not crash the process.
    this.pool.on('error', () => undefined)
  }

  query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    return run<T>(this.pool, sql, params)
  }

  async copyIn(table: string, columns: string[], data: Buffer): Promise<void> {
    await this.withClient((client) => clientQueryable(client).copyIn(table, columns, data))
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      try {
        await client.query('BEGIN')
        const result = await fn(clientQueryable(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw err
      }
    })
  }

  connection<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    return this.withClient((client) => fn(clientConnection(client)))
  }

  /**
   * A checked-out client whose connection dies mid-statement (server restart) emits 'error' on
   * top of failing the statement; without a listener that event would crash the process. Such a
   * client is destroyed on release instead of going back to the pool.
   */
  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let lost: Error | undefined
    const onError = (err: Error) => {
      lost = err
    }
    client.on('error', onError)
    try {
      return await fn(client)
    } finally {
      client.off('error', onError)
      client.release(lost)
    }
  }

  async session(): Promise<Session> {
    const client = await this.pool.connect()
    // A held session whose backend dies (server restart, pg_terminate_backend) reports it on
    // its next query; the asynchronous 'error' event must not crash the process meanwhile.
    const onError = () => undefined
    client.on('error', onError)
    let released = false
    return {
      ...clientQueryable(client),
      async release() {
        if (released) return
        released = true
        client.off('error', onError)
        // Destroy rather than return to the pool: session settings and advisory locks die with it.
        client.release(true)
      },
    }
  }

  /** Outside the pool: a LISTEN connection is held for hours and must not starve the pool's work. */
  async listen(channel: string, onNotify: (payload: string) => void, onLost: (err: unknown) => void): Promise<Listening> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'embedform sync', keepAlive: true })
    let closed = false
    const lost = (err: unknown) => {
      if (closed) return
      closed = true
      client.end().catch(() => undefined)
      onLost(err)
    }
    client.on('error', lost)
    client.on('end', () => lost(new Error('the LISTEN connection was closed by the server')))
    client.on('notification', (n) => {
      if (n.channel === channel) onNotify(n.payload ?? '')
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${quoteIdent(channel)}`)
    } catch (err) {
      closed = true
      await client.end().catch(() => undefined)
      throw err
    }
    return {
      async close() {
        if (closed) return
        closed = true
        await client.end().catch(() => undefined)
      },
    }
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}
