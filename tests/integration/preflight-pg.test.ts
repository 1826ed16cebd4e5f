/**
 * Preflight on native PostgreSQL and on PGlite: every problem the issue found halfway through an
 * apply is an input error (exit 2) at plan time that names the object, and planning changes
 * nothing in the database (no column, no trigger, no embedform schema).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engineContextFor } from '../../src/cli/engine-context.js'
import { loadConfig } from '../../src/config/index.js'
import { EmbedformError, EmbedformErrors } from '../../src/core/errors.js'
import { makePlan } from '../../src/plan/index.js'
import { PgliteDriver } from '../../plugins/pgvector/index.js'
import { fakeOpenEncoder } from '../helpers/fake-encoder.js'
import { PROFILES } from '../helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'

type Sql = (text: string) => Promise<Record<string, unknown>[]>

interface Scenario {
  table: string
  setup: string[]
  collection: string
  code: string
  object: string
  message: RegExp
  hint?: RegExp
}

const SCENARIOS: Scenario[] = [
  {
    table: 'missing_key',
    setup: ['CREATE TABLE missing_key (doc_id bigint PRIMARY KEY, title text, body text)'],
    collection: 'key: id\n    text: [title, body]',
    code: 'E_PREFLIGHT_KEY_MISSING',
    object: 'column public.missing_key.id',
    message: /key column "id" does not exist/,
  },
  {
    table: 'null_key',
    setup: ['CREATE TABLE null_key (id bigint, title text, body text)', 'CREATE UNIQUE INDEX ON null_key (id)', "INSERT INTO null_key VALUES (1, 'a', 'b'), (NULL, 'c', 'd')"],
    collection: 'key: id\n    text: [title, body]',
    code: 'E_PREFLIGHT_KEY_NULL',
    object: 'column public.null_key.id',
    message: /1 row\(s\) .* have a NULL key "id"/,
  },
  {
    table: 'dup_key',
    setup: ['CREATE TABLE dup_key (id bigint NOT NULL, title text, body text)', "INSERT INTO dup_key VALUES (1, 'a', 'b'), (7, 'c', 'd'), (7, 'e', 'f')"],
    collection: 'key: id\n    text: [title, body]',
    code: 'E_PREFLIGHT_KEY_NOT_UNIQUE',
    object: 'column public.dup_key.id',
    message: /no primary key or unique index on exactly it, and value 7 appears 2 times/,
  },
  {
    table: 'composite_key',
    setup: ['CREATE TABLE composite_key (tenant int, id bigint, title text, body text, PRIMARY KEY (tenant, id))'],
    collection: 'key: id\n    text: [title, body]',
    code: 'E_PREFLIGHT_COMPOSITE_KEY',
    object: 'column public.composite_key.id',
    message: /only part of the primary key composite_key_pkey \(tenant, id\)/,
    hint: /ADD COLUMN embedform_id bigint GENERATED ALWAYS AS IDENTITY UNIQUE/,
  },
  {
    table: 'text_case',
    setup: ['CREATE TABLE text_case (id bigint PRIMARY KEY, "Title" text, body text)'],
    collection: 'key: id\n    text: { template: "{title}\\n{body}" }',
    code: 'E_PREFLIGHT_TEXT_COLUMN',
    object: 'column public.text_case.title',
    message: /text template field \{title\} names a column that table public.text_case does not have/,
    hint: /did you mean "Title"\? .*write \{Title\}/,
  },
  {
    table: 'vector_type',
    setup: ['CREATE TABLE vector_type (id bigint PRIMARY KEY, title text, body text, embedding text)'],
    collection: 'key: id\n    text: [title, body]',
    code: 'E_PREFLIGHT_VECTOR_TYPE',
    object: 'column public.vector_type.embedding',
    message: /is text, not a pgvector vector or halfvec/,
  },
  {
    table: 'matview',
    setup: [
      'CREATE TABLE matview (id bigint PRIMARY KEY, title text, body text, embedding vector(3))',
      "INSERT INTO matview VALUES (1, 'a', 'b', '[1,0,0]')",
      'CREATE VIEW matview_plain AS SELECT id, embedding FROM matview',
      'CREATE MATERIALIZED VIEW matview_mv AS SELECT id, embedding FROM matview_plain',
    ],
    collection: 'key: id\n    text: [title, body]',
    code: 'E_PREFLIGHT_MATERIALIZED_VIEW',
    object: 'materialized view public.matview_mv',
    message: /materialized view public.matview_mv reads column "embedding"/,
    hint: /DROP MATERIALIZED VIEW "public"."matview_mv"/,
  },
]

function writeConfig(dir: string, storeYaml: string, tables: string[]): string {
  mkdirSync(join(dir, 'profiles'), { recursive: true })
  for (const [name, yaml] of Object.entries(PROFILES)) writeFileSync(join(dir, 'profiles', `${name}.yaml`), yaml)
  const collections = tables
    .map((t) => {
      const s = SCENARIOS.find((x) => x.table === t)
      return `  ${t}:\n    store: main\n    table: ${t}\n    ${s?.collection ?? 'key: id\n    text: [title, body]'}\n    vector: embedding\n    profile: starter\n`
    })
    .join('')
  const file = join(dir, 'embedding.config.yaml')
  writeFileSync(file, `version: 1\nstores:\n  main:\n${storeYaml}\ncollections:\n${collections}`)
  return file
}

/** Everything planning could have created: columns, triggers, schemas, functions. */
async function catalogSnapshot(sql: Sql): Promise<string> {
  const rows = await sql(`
    SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) AS item
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'schema ' || nspname FROM pg_namespace
    UNION ALL SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    ORDER BY 1`)
  return rows.map((r) => String(r.item)).join('\n')
}

async function planError(configFile: string, collection: string): Promise<EmbedformError> {
  const config = await loadConfig({ configPath: configFile })
  const ctx = engineContextFor(config, { openEncoder: fakeOpenEncoder().open })
  try {
    await makePlan(ctx, { collections: [collection], measure: false })
  } catch (err) {
    return err as EmbedformError
  } finally {
    await ctx.close()
  }
  throw new Error(`plan of ${collection} was accepted`)
}

function only(err: EmbedformError, code: string): EmbedformError {
  const list = err instanceof EmbedformErrors ? err.errors : [err]
  const found = list.find((e) => e.code === code)
  if (!found) throw new Error(`expected ${code}, got ${list.map((e) => `${e.code}: ${e.message}`).join('; ')}`)
  return found
}

function expectScenario(err: EmbedformError, s: Scenario): void {
  expect(err).toBeInstanceOf(EmbedformError)
  expect(err.exitCode).toBe(2)
  const e = only(err, s.code)
  expect(e.location?.object).toBe(s.object)
  expect(e.location?.path).toBe(`collections.${s.table}`)
  expect(e.message).toMatch(s.message)
  expect(e.hint).toBeTruthy()
  if (s.hint) expect(e.hint).toMatch(s.hint)
}

describe('preflight on native PostgreSQL', () => {
  let db: TestDatabase
  let dir: string
  let configFile: string
  const sql: Sql = async (text) => db.sql(text)

  beforeAll(async () => {
    db = await createTestDatabase()
    for (const s of SCENARIOS) for (const stmt of s.setup) await db.sql(stmt)
    await db.sql('CREATE TABLE fine (id bigint PRIMARY KEY, title text, body text, embedding vector(3))')
    await db.sql("INSERT INTO fine VALUES (1, 'a', 'b', '[1,0,0]')")
    await db.sql('CREATE VIEW fine_view AS SELECT id, embedding FROM fine')
    dir = mkdtempSync(join(tmpdir(), 'embedform-preflight-pg-'))
    configFile = writeConfig(dir, `    kind: pgvector\n    url: "${db.url}"`, [...SCENARIOS.map((s) => s.table), 'fine'])
  })
  afterAll(async () => {
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const s of SCENARIOS) {
    it(`refuses ${s.table} with ${s.code} and changes nothing`, async () => {
      const before = await catalogSnapshot(sql)
      expectScenario(await planError(configFile, s.table), s)
      expect(await catalogSnapshot(sql)).toBe(before)
      expect(before).not.toContain('schema embedform')
    })
  }

  it('reports every collection\'s problems in one run', async () => {
    const config = await loadConfig({ configPath: configFile })
    const ctx = engineContextFor(config, { openEncoder: fakeOpenEncoder().open })
    const err = await makePlan(ctx, { measure: false }).then(() => undefined, (e: unknown) => e as EmbedformError)
    await ctx.close()
    expect(err).toBeInstanceOf(EmbedformErrors)
    expect((err as EmbedformErrors).errors.map((e) => e.code).sort()).toEqual(SCENARIOS.map((s) => s.code).sort())
  })

  it('passes a table that is fine, and lists a plain view over the vector column as a warning', async () => {
    const config = await loadConfig({ configPath: configFile })
    const ctx = engineContextFor(config, { openEncoder: fakeOpenEncoder().open })
    try {
      const plan = await makePlan(ctx, { collections: ['fine'], measure: false })
      expect(plan.collections[0]?.change).toBe('new-generation')
      expect(plan.collections[0]?.warnings.join('\n')).toMatch(/view public.fine_view reads column "embedding": the cutover drops and recreates it/)
    } finally {
      await ctx.close()
    }
  })

  it('refuses a role that does not own the table, naming the owner and the grant to make', async () => {
    const role = `pf_app_${Math.random().toString(36).slice(2, 8)}`
    await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pf-secret'`)
    try {
      await db.sql(`CREATE TABLE owned (id bigint PRIMARY KEY, title text, body text)`)
      await db.sql(`GRANT SELECT, UPDATE ON owned TO ${role}`)
      await db.sql(`REVOKE CREATE ON DATABASE ${new URL(db.url).pathname.slice(1)} FROM PUBLIC`)
      const url = new URL(db.url)
      url.username = role
      url.password = 'pf-secret'
      const roleDir = mkdtempSync(join(tmpdir(), 'embedform-preflight-role-'))
      const file = writeConfig(roleDir, `    kind: pgvector\n    url: "${url.toString()}"`, ['owned'])
      const before = await catalogSnapshot(sql)
      const err = await planError(file, 'owned')
      expect(err.exitCode).toBe(2)
      const list = err instanceof EmbedformErrors ? err.errors : [err]
      const owner = list.find((e) => /does not own table public.owned/.test(e.message))
      expect(owner?.code).toBe('E_PREFLIGHT_PRIVILEGE')
      expect(owner?.location?.object).toBe('table public.owned')
      expect(owner?.hint).toMatch(new RegExp(`GRANT "embedform" TO "${role}"`))
      const schema = list.find((e) => e.location?.object === 'schema embedform')
      expect(schema?.message).toMatch(/cannot create the schema "embedform"/)
      expect(await catalogSnapshot(sql)).toBe(before)
      rmSync(roleDir, { recursive: true, force: true })
    } finally {
      await db.sql(`DROP OWNED BY ${role}`)
      await db.sql(`DROP ROLE ${role}`)
    }
  })
})

describe('preflight on PGlite', () => {
  let dir: string
  let dataDir: string
  let configFile: string
  const withDriver = async <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => {
    const driver = await PgliteDriver.open(dataDir)
    try {
      return await fn(async (text) => (await driver.query<Record<string, unknown>>(text)).rows)
    } finally {
      await driver.close()
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'embedform-preflight-pglite-'))
    dataDir = join(dir, 'data')
    await withDriver(async (sql) => {
      for (const s of SCENARIOS) for (const stmt of s.setup) await sql(stmt)
    })
    configFile = writeConfig(dir, `    kind: pglite\n    path: "${dataDir}"`, SCENARIOS.map((s) => s.table))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  for (const s of SCENARIOS) {
    it(`refuses ${s.table} with ${s.code} and changes nothing`, async () => {
      const before = await withDriver(catalogSnapshot)
      expectScenario(await planError(configFile, s.table), s)
      const after = await withDriver(catalogSnapshot)
      expect(after).toBe(before)
      expect(after).not.toContain('schema embedform')
    })
  }
})
