import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbedformError } from '../../src/core/errors.js'
import { PgliteDriver, PgvectorAdapter, plugin } from '../../plugins/pgvector/index.js'
import { fakeVector } from './fake-vectors.js'
import { hnswCosine, testSpec } from './generation-spec.js'
import { sqlHarness } from './sql-harness.js'
import { conformanceSuite } from '../../src/testing/index.js'

let dir: string
let driver: PgliteDriver

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-pglite-'))
  // One PGlite for the file: starting one costs about a second, and the data-dir lock allows
  // only one per directory anyway.
  driver = await PgliteDriver.open(join(dir, 'data'))
})
afterAll(async () => {
  await driver.close()
  rmSync(dir, { recursive: true, force: true })
})

conformanceSuite('pgvector (PGlite)', async () => {
  const adapter = new PgvectorAdapter('pglite', driver, { ownsDriver: false })
  return sqlHarness((sql, params) => driver.query(sql, params), adapter, () => adapter.close(), async () => new PgvectorAdapter('pglite', driver, { ownsDriver: false }))
})

describe('PGlite specifics', () => {
  it('stores halfvec generations and searches them through an IVFFlat index', async () => {
    const adapter = new PgvectorAdapter('pglite', driver, { ownsDriver: false })
    const h = await sqlHarness((sql, params) => driver.query(sql, params), adapter, () => adapter.close())
    try {
      await h.seed(Array.from({ length: 50 }, (_, i) => ({ key: i + 1, text: `half ${i + 1}` })))
      const settings = { ...hnswCosine, storage: 'halfvec' as const, pgvector: { type: 'ivfflat' as const, m: 16, efConstruction: 64 } }
      await adapter.createGeneration(h.collection, testSpec(1, 8, settings))
      for await (const page of adapter.pending(h.collection, 1, { batchSize: 20, phase: 'backfill' })) {
        await adapter.write(h.collection, 1, page.map((r) => ({ key: r.key, token: r.token, vector: fakeVector(r.text, 8) })))
      }
      await adapter.buildIndex(h.collection, 1)
      const hits = await adapter.search(h.collection, 1, { vector: fakeVector('half 7', 8), k: 2 })
      expect(String(hits[0]!.key)).toBe('7')
      expect(await adapter.verify(h.collection, 1)).toMatchObject({ ok: true, indexValid: true })
    } finally {
      await h.cleanup()
    }
  })
})

describe('PGlite data directory lock', () => {
  it('refuses a second opener of the same directory with E_LOCK_HELD naming the holder', async () => {
    const err = await PgliteDriver.open(join(dir, 'data')).then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(EmbedformError)
    expect((err as EmbedformError).code).toBe('E_LOCK_HELD')
    expect((err as EmbedformError).message).toContain(`pid ${process.pid}`)
  })

  it('opens a store path relative to the config directory and releases the lock on close', async () => {
    const store = { name: 'local', kind: 'pglite' as const, path: 'state/db' }
    const adapter = await plugin.create(store, { baseDir: dir })
    expect((await adapter.inspect({ name: 'x', store: 'local', profile: 'p', target: 'nothing', key: 'id', text: { columns: ['t'], separator: ' ' }, vector: 'v' })).exists).toBe(false)
    await adapter.close()
    const again = await plugin.create(store, { baseDir: dir })
    await again.close()
  })
})
