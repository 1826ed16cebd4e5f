import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbedformError } from '../../src/core/errors.js'
import type { Collection } from '../../src/core/types.js'
import type { StoreAdapter } from '../../src/store/adapter.js'
import { plugin } from '../../plugins/pgvector/index.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../helpers/pg.js'

let db: TestDatabase
const c: Collection = {
  name: 'docs',
  store: 'pg',
  profile: 'p',
  target: 'docs',
  key: 'id',
  text: { columns: ['body'], separator: ' ' },
  vector: 'embedding',
}
const open = (): Promise<StoreAdapter> => plugin.create({ name: 'pg', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() })

beforeAll(async () => {
  db = await createTestDatabase()
  await createDocsTable(db, 'docs', 3)
})
afterAll(async () => {
  await db?.drop()
})

describe('pgvector migration lock (native)', () => {
  it('inspect is read-only: it creates no embedform state', async () => {
    const adapter = await open()
    await adapter.inspect(c)
    await adapter.readJournal(c)
    const [row] = await db.sql<{ present: boolean }>(`SELECT to_regnamespace('embedform') IS NOT NULL AS present`)
    expect(row!.present).toBe(false)
    await adapter.close()
  })

  it('keeps a second process out, and frees the lock when the holder’s connection dies', async () => {
    const first = await open()
    const second = await open()
    await first.lock(c, 'apply from ci')
    const err = await second.lock(c, 'apply from laptop').then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(EmbedformError)
    expect((err as EmbedformError).code).toBe('E_LOCK_HELD')
    expect((err as EmbedformError).message).toMatch(new RegExp(`apply from ci \\(pid ${process.pid} on .+, since `))
    expect((await second.inspect(c)).lock).toMatchObject({ holder: 'apply from ci' })

    // What kill -9 leaves behind: the row stays, the session (and its advisory lock) is gone.
    // Only this test's database: other test files hold their own migration locks on the same server.
    await db.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_locks
        WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    )
    await expect.poll(async () => (await second.inspect(c)).lock).toBeNull()
    const release = await second.lock(c, 'apply from laptop')
    expect((await second.inspect(c)).lock).toMatchObject({ holder: 'apply from laptop' })
    await release()
    expect((await second.inspect(c)).lock).toBeNull()
    await first.close()
    await second.close()
  })
})
