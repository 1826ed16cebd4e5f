/**
 * The write path's wait before a round (write-path.ts awaitPruning): it sleeps only while another
 * session's snapshot is as old as the previous round's transaction, i.e. while that round's old
 * row versions cannot be pruned yet.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awaitPruning } from '../../plugins/pgvector/write-path.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.drop()
})

describe('waiting for the previous round to become prunable (native PostgreSQL)', () => {
  it('waits while a snapshot taken before the round committed is held, and not after it ends', async () => {
    const reader = new pg.Client({ connectionString: db.url })
    const writer = new pg.Client({ connectionString: db.url })
    await reader.connect()
    await writer.connect()
    try {
      const roundXid = async () => {
        await writer.query('BEGIN')
        const { rows } = await writer.query<{ xid: string }>(`SELECT (txid_current() % 4294967296)::text AS xid`)
        await writer.query('COMMIT')
        return rows[0]!.xid
      }
      const waits = async (xid: string) => (await writer.query(awaitPruning(xid))).rows.length === 1
      // A reader whose snapshot was taken while the round ran (here: before it committed).
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
      await reader.query('SELECT 1')
      const during = await roundXid()
      expect(await waits(during)).toBe(true)
      await reader.query('COMMIT')
      expect(await waits(during)).toBe(false)
      // A snapshot taken after the round committed does not see its old versions: no wait.
      const before = await roundXid()
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
      await reader.query('SELECT 1')
      expect(await waits(before)).toBe(false)
      await reader.query('COMMIT')
    } finally {
      await reader.end()
      await writer.end()
    }
  })

  it('refuses anything but a transaction id', () => {
    expect(() => awaitPruning(`1'); DROP TABLE x; --`)).toThrow(/not a transaction id/)
  })
})
