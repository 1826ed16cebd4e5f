/**
 * Driver.connection and Connection.script on both drivers: the write path sends each round as
 * one script (BEGIN … COMMIT) over a connection whose temp table holds the batch, so a failed
 * script must leave no transaction open, and no other connection may share the temp table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Driver } from '../../plugins/pgvector/driver.js'
import { PgDriver, PgliteDriver } from '../../plugins/pgvector/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'

let db: TestDatabase
const drivers: { name: string; open: () => Promise<Driver> }[] = [
  { name: 'native PostgreSQL', open: async () => new PgDriver(db.url, 2) },
  { name: 'PGlite', open: () => PgliteDriver.open('memory://') },
]

beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.drop()
})

describe.each(drivers)('Connection.script ($name)', ({ open }) => {
  let driver: Driver
  beforeAll(async () => {
    driver = await open()
    await driver.query(`CREATE TABLE IF NOT EXISTS script_t (id int PRIMARY KEY)`)
  })
  afterAll(async () => {
    await driver?.close()
  })

  it('runs several statements in one call and returns the rows of each', async () => {
    const results = await driver.connection((c) => c.script(['BEGIN', 'INSERT INTO script_t VALUES (1), (2)', 'SELECT count(*)::int AS n FROM script_t', 'COMMIT']))
    expect(results).toHaveLength(4)
    expect(results[2]!.rows).toEqual([{ n: 2 }])
  })

  it('rolls back what a failed script began and leaves the connection usable', async () => {
    await driver.connection(async (c) => {
      await expect(c.script(['BEGIN', 'INSERT INTO script_t VALUES (3)', 'INSERT INTO script_t VALUES (1)', 'COMMIT'])).rejects.toThrow(/duplicate key/)
      const [r] = await c.script([`SELECT count(*)::int AS n, current_setting('transaction_isolation') IS NOT NULL AS ok FROM script_t`])
      expect(r!.rows).toEqual([{ n: 2, ok: true }])
      // A transaction left open would make this BEGIN warn and the COMMIT below commit both.
      const [, , after] = await c.script(['BEGIN', 'INSERT INTO script_t VALUES (4)', 'SELECT count(*)::int AS n FROM script_t', 'ROLLBACK'])
      expect(after!.rows).toEqual([{ n: 3 }])
    })
    expect((await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM script_t`)).rows).toEqual([{ n: 2 }])
  })

  it('gives each concurrent connection its own temp tables', async () => {
    const fill = (tag: number) =>
      driver.connection(async (c) => {
        await c.script([`CREATE TEMP TABLE IF NOT EXISTS script_tmp (tag int)`, 'TRUNCATE script_tmp'])
        for (let i = 0; i < 20; i++) {
          await c.query(`INSERT INTO script_tmp VALUES ($1)`, [tag])
          await new Promise((r) => setTimeout(r, 1))
        }
        const [r] = await c.script([`SELECT array_agg(DISTINCT tag) AS tags, count(*)::int AS n FROM script_tmp`])
        return r!.rows[0]
      })
    const [a, b] = await Promise.all([fill(1), fill(2)])
    expect(a).toEqual({ tags: [1], n: 20 })
    expect(b).toEqual({ tags: [2], n: 20 })
  })
})
