import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbedformError } from '../../src/core/errors.js'
import type { Collection } from '../../src/core/types.js'
import type { StoreAdapter } from '../../src/store/adapter.js'
import { plugin } from '../../plugins/pgvector/index.js'
import { quoteIdent, quoteLiteral } from '../../plugins/pgvector/identifiers.js'
import { tokenHash } from '../../plugins/pgvector/row-token.js'
import { testSpec } from '../conformance/generation-spec.js'
import { createDocsTable, createTestDatabase, type TestDatabase } from '../helpers/pg.js'

let db: TestDatabase
let adapter: StoreAdapter

const good: Collection = {
  name: 'docs',
  store: 'pg',
  profile: 'p',
  target: 'docs',
  key: 'id',
  text: { columns: ['body'], separator: ' ' },
  vector: 'embedding',
}
const INJECTION = `x"; DROP TABLE public.victim; --`

beforeAll(async () => {
  db = await createTestDatabase()
  await createDocsTable(db, 'docs', 5)
  await db.sql(`CREATE TABLE public.victim (id int)`)
  adapter = await plugin.create({ name: 'pg', kind: 'pgvector', url: db.url }, { baseDir: process.cwd() })
})
afterAll(async () => {
  await adapter?.close()
  await db?.drop()
})

async function victimIntact(): Promise<boolean> {
  const [row] = await db.sql<{ ok: boolean }>(`SELECT to_regclass('public.victim') IS NOT NULL AS ok`)
  return row!.ok
}

async function stateCreated(): Promise<boolean> {
  const [row] = await db.sql<{ ok: boolean }>(`SELECT to_regnamespace('embedform') IS NOT NULL AS ok`)
  return row!.ok
}

describe('pgvector identifiers from config (native)', () => {
  const bad: [string, Collection][] = [
    ['target with a quote and a statement', { ...good, target: INJECTION }],
    ['target with a space', { ...good, target: 'my docs' }],
    ['schema-qualified target with a semicolon', { ...good, target: 'public;.docs' }],
    ['key', { ...good, key: `id"; --` }],
    ['vector', { ...good, vector: 'embedding; DROP TABLE public.victim' }],
    ['text column', { ...good, text: { columns: ['body', INJECTION], separator: ' ' } }],
    ['template field', { ...good, text: { template: `{body} {${INJECTION}}`, fields: [] } }],
  ]

  it.each(bad)('rejects a bad %s before any SQL, naming the config key', async (_what, c) => {
    const attempts: Promise<unknown>[] = [
      adapter.inspect(c),
      adapter.lock(c, 'test'),
      adapter.createGeneration(c, testSpec(2, 8)),
      adapter.cutover(c, 2, { maxHeldRows: 0 }),
      adapter.dropGeneration(c, 2),
      adapter.writeJournal(c, null),
    ]
    for (const attempt of attempts) {
      const err = await attempt.then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(EmbedformError)
      expect((err as EmbedformError).code).toBe('E_IDENTIFIER')
      expect((err as EmbedformError).kind).toBe('input')
      expect((err as EmbedformError).location?.path).toMatch(/^collections\.docs\.(target|key|vector|text)/)
    }
    expect(await victimIntact()).toBe(true)
    expect(await stateCreated()).toBe(false)
  })

  it('passes separators and template text as parameters or quoted literals, never as SQL', async () => {
    // The write path sends its UPDATE without parameters (one round trip per round), so the
    // template is quoted there: its guard must still hash exactly the text pending read.
    const template = `'); DROP TABLE public.victim; -- \\' $1 E'\\n' {body}`
    const c: Collection = { ...good, text: { template, fields: ['body'] } }
    await adapter.createGeneration(c, testSpec(1, 8))
    const pages = []
    for await (const page of adapter.pending(c, 1, { batchSize: 10, phase: 'backfill' })) pages.push(...page)
    expect(pages).toHaveLength(5)
    expect(pages[0]!.text).toBe(`'); DROP TABLE public.victim; -- \\' $1 E'\\n' document 1 on subject 1`)
    await adapter.write(c, 1, pages.map((r) => ({ key: r.key, token: r.token, vector: new Float32Array(8).fill(0.5) })))
    expect(await adapter.freshness(c, 1)).toMatchObject({ rows: 5, fresh: 5, missing: 0 })
    expect(await victimIntact()).toBe(true)
  })

  it('quotes literals the same way whatever standard_conforming_strings says', async () => {
    const values = [`plain`, `it's`, `back\\slash`, `\\'; DROP TABLE public.victim; --`, `line\nbreak`, `$1 $$ E'x'`]
    const client = await db.pool.connect()
    try {
      for (const conforming of ['on', 'off']) {
        await client.query(`SET standard_conforming_strings = ${conforming}`)
        for (const v of values) {
          const r = await client.query<{ v: string }>(`SELECT ${quoteLiteral(v)}::text AS v`)
          expect(r.rows[0]!.v).toBe(v)
        }
      }
    } finally {
      client.release(true)
    }
    expect(await victimIntact()).toBe(true)
  })

  it('builds text from several columns with NULL as empty, and the token guards exactly that text', async () => {
    await db.sql(`CREATE TABLE public.articles (id text PRIMARY KEY, title text, body text)`)
    await db.sql(`INSERT INTO public.articles VALUES ('a', 'Title A', 'Body A'), ('b', NULL, 'Body B'), ('c', 'Title C', NULL)`)
    const c: Collection = { ...good, target: 'articles', text: { columns: ['title', 'body'], separator: ' | ' } }
    await adapter.createGeneration(c, testSpec(1, 8))
    const rows = []
    for await (const page of adapter.pending(c, 1, { batchSize: 10, phase: 'backfill' })) rows.push(...page)
    expect(rows.map((r) => [r.key, r.text])).toEqual([
      ['a', 'Title A | Body A'],
      ['b', ' | Body B'],
      ['c', 'Title C | '],
    ])
    const [md5] = await db.sql<{ h: string }>(`SELECT md5('Title A | Body A') AS h`)
    expect(tokenHash(rows[0]!.token!)).toBe(md5!.h)
    await adapter.write(c, 1, rows.map((r) => ({ key: r.key, token: r.token, vector: new Float32Array(8).fill(0.5) })))
    expect((await adapter.inspect(c)).generations[0]!.populated).toBe(3)
    expect(await adapter.freshness(c, 1)).toMatchObject({ fresh: 3, stale: 0, queued: 0 })
    // Setting a column to the value it already has is not a text change: nothing is queued.
    await db.sql(`UPDATE public.articles SET title = 'Title A' WHERE id = 'a'`)
    expect(await adapter.freshness(c, 1)).toMatchObject({ fresh: 3, stale: 0, queued: 0 })
    await db.sql(`UPDATE public.articles SET body = 'Body C' WHERE id = 'c'`)
    expect(await adapter.freshness(c, 1)).toMatchObject({ fresh: 2, stale: 1, queued: 1 })
    const queued = []
    for await (const page of adapter.pending(c, 1, { batchSize: 10, phase: 'catchup' })) queued.push(...page)
    expect(queued.map((r) => [r.key, r.text])).toEqual([['c', 'Title C | Body C']])
  })

  it('quotes identifiers by doubling embedded quotes', async () => {
    const weird = `we"ird; name`
    await db.sql(`CREATE TABLE public.${quoteIdent(weird)} (id int)`)
    const [row] = await db.sql<{ relname: string }>(`SELECT relname FROM pg_class WHERE relname = $1`, [weird])
    expect(row?.relname).toBe(weird)
    expect(await victimIntact()).toBe(true)
  })
})
