import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbedformError } from '../../src/core/errors.js'
import { PgliteDriver, PgvectorAdapter, plugin } from '../../plugins/pgvector/index.js'
import { sqlHarness } from './sql-harness.js'
import { conformanceSuite } from './suite.js'

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
  return sqlHarness((sql, params) => driver.query(sql, params), adapter, () => adapter.close())
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
