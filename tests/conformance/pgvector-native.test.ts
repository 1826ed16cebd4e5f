import { afterAll, beforeAll } from 'vitest'
import { plugin } from '../../plugins/pgvector/index.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { sqlHarness } from './sql-harness.js'
import { conformanceSuite } from '../../src/testing/index.js'

let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db.drop()
})

conformanceSuite('pgvector (native PostgreSQL)', async () => {
  const adapter = await plugin.create({ name: 'test', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() })
  return sqlHarness((sql, params) => db.pool.query(sql, params), adapter, () => adapter.close(), () => plugin.create({ name: 'test', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() }))
})
