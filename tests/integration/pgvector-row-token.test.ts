/**
 * The row token (row-token.ts) on both drivers: a write trusts a row still at the version it
 * was read from without hashing its text again, hashes the text of a row whose version changed,
 * and skips (leaves queued) a row whose text changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Collection } from '../../src/core/types.js'
import type { PendingRow } from '../../src/store/adapter.js'
import { PgDriver, PgliteDriver, PgvectorAdapter, type Driver } from '../../plugins/pgvector/index.js'
import { tokenHash, tokenLocation } from '../../plugins/pgvector/row-token.js'
import { fakeVector } from '../conformance/fake-vectors.js'
import { testSpec } from '../conformance/generation-spec.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'

const DIMS = 8
let db: TestDatabase
const drivers: { name: string; kind: 'pgvector' | 'pglite'; open: () => Promise<Driver> }[] = [
  { name: 'native PostgreSQL', kind: 'pgvector', open: async () => new PgDriver(db.url, 2) },
  { name: 'PGlite', kind: 'pglite', open: () => PgliteDriver.open('memory://') },
]

beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.drop()
})

describe.each(drivers)('row tokens ($name)', ({ kind, open }) => {
  let driver: Driver
  let adapter: PgvectorAdapter
  let tables = 0
  beforeAll(async () => {
    driver = await open()
    adapter = new PgvectorAdapter(kind, driver, { ownsDriver: true })
  })
  afterAll(async () => {
    await adapter?.close()
  })

  /** A fresh table of three rows with a generation being built; its pending rows, read once. */
  async function readRows(): Promise<{ c: Collection; rows: PendingRow[] }> {
    const name = `tok_${kind}_${++tables}`
    await driver.query(`CREATE TABLE public.${name} (id bigint PRIMARY KEY, body text, note text)`)
    await driver.query(`INSERT INTO public.${name} (id, body) VALUES (1, 'first text'), (2, 'second text'), (3, 'third text')`)
    const c: Collection = { name, store: 'pg', profile: 'p', target: name, key: 'id', text: { columns: ['body'], separator: ' ' }, vector: 'embedding' }
    await adapter.createGeneration(c, testSpec(1, DIMS))
    const rows: PendingRow[] = []
    for await (const page of adapter.pending(c, 1, { batchSize: 10, phase: 'backfill' })) rows.push(...page)
    return { c, rows }
  }

  const write = (a: PgvectorAdapter, c: Collection, rows: PendingRow[]) => a.write(c, 1, rows.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(r.text, DIMS) })))

  it('carries the text hash and where the row version sits', async () => {
    const { rows } = await readRows()
    const [md5] = (await driver.query<{ h: string }>(`SELECT md5('first text') AS h`)).rows
    expect(tokenHash(rows[0]!.token!)).toBe(md5!.h)
    expect(tokenLocation(rows[0]!.token!)).toEqual({ page: 0, lp: 1 })
  })

  it('trusts a row still at the version read: its text is not hashed again', async () => {
    const { c, rows } = await readRows()
    // The token's hash is wrong but its version is the row's: written, and that hash recorded.
    const forged = rows.map((r) => ({ ...r, token: r.token!.replace(/^[0-9a-f]{32}/, '0'.repeat(32)) }))
    await write(adapter, c, forged)
    expect(await adapter.freshness(c, 1)).toMatchObject({ rows: 3, stale: 3, missing: 0 })
  })

  it('writes a row whose version changed but whose text did not, and skips one whose text changed', async () => {
    const { c, rows } = await readRows()
    const table = `public.${c.target}`
    await driver.query(`UPDATE ${table} SET note = 'edited elsewhere' WHERE id = 1`)
    await driver.query(`UPDATE ${table} SET body = 'second text, edited' WHERE id = 2`)
    await write(adapter, c, rows)
    // Row 1 hashed to its token (written, fresh); row 2 no longer does (left for catch-up); row 3 untouched.
    expect(await adapter.freshness(c, 1)).toMatchObject({ rows: 3, fresh: 2, missing: 1, queued: 1 })
    const again: PendingRow[] = []
    for await (const page of adapter.pending(c, 1, { batchSize: 10, phase: 'catchup' })) again.push(...page)
    expect(again.map((r) => [String(r.key), r.text])).toEqual([['2', 'second text, edited']])
    await write(adapter, c, again)
    expect(await adapter.freshness(c, 1)).toMatchObject({ rows: 3, fresh: 3, stale: 0, missing: 0, queued: 0 })
  })
})
