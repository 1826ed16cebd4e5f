/**
 * Preflight through the built CLI on native PostgreSQL: a text template naming `{title}` on a
 * table whose column is "Title" makes `plan` and `apply` exit 2 naming the column, and apply
 * changes nothing in the database (no column, trigger or embedform schema) and leaves nothing to
 * resume.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROFILES, runCli } from '../helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'

let db: TestDatabase
let dir: string
const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 60_000 })

function writeConfig(template: string): void {
  writeFileSync(
    join(dir, 'embedding.config.yaml'),
    `version: 1
stores:
  main:
    kind: pgvector
    url: "${db.url}"
collections:
  docs:
    store: main
    table: docs
    key: id
    text: { template: ${JSON.stringify(template)} }
    vector: embedding
    profile: starter
`,
  )
}

async function catalog(): Promise<string> {
  const rows = await db.sql<{ item: string }>(`
    SELECT 'column ' || attname AS item FROM pg_attribute WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped
    UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = 'public.docs'::regclass AND NOT tgisinternal
    UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = 'embedform'
    ORDER BY 1`)
  return rows.map((r) => r.item).join(', ')
}

beforeAll(async () => {
  db = await createTestDatabase()
  await db.sql('CREATE TABLE docs (id bigint PRIMARY KEY, "Title" text, body text)')
  await db.sql("INSERT INTO docs SELECT i, 'title ' || i, 'body of document ' || i FROM generate_series(1, 200) i")
  dir = mkdtempSync(join(tmpdir(), 'embedform-preflight-cli-'))
  mkdirSync(join(dir, 'profiles'))
  writeFileSync(join(dir, 'profiles', 'starter.yaml'), PROFILES.starter!)
  writeConfig('{title}\n{body}')
})

afterAll(async () => {
  await db?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('preflight through the CLI', () => {
  it('plan exits 2 naming the column and the case-sensitive fix', async () => {
    const r = await cli(['plan', '--no-measure'])
    expect(r.code, r.stdout).toBe(2)
    expect(r.stderr).toMatch(/error\[E_PREFLIGHT_TEXT_COLUMN\] at collections\.docs column public\.docs\.title: collection "docs": text template field \{title\} names a column/)
    expect(r.stderr).toMatch(/hint: did you mean "Title"\? Column names are case-sensitive: write \{Title\} in collections\.docs\.text/)
  })

  it('apply exits 2 before any lock or DDL: the catalog is unchanged and nothing is left in flight', async () => {
    const before = await catalog()
    const r = await cli(['apply', '--auto-approve', '--json'])
    expect(r.code, r.stdout + r.stderr).toBe(2)
    expect(r.stdout).toContain('"code":"E_PREFLIGHT_TEXT_COLUMN"')
    expect(await catalog()).toBe(before)
    expect(before).toBe('column Title, column body, column id')
    const plans = join(dir, '.embedform', 'plans')
    expect(existsSync(plans) ? readdirSync(plans) : []).toEqual([])
  })

  it('the fixed template plans and applies', async () => {
    writeConfig('{Title}\n{body}')
    const r = await cli(['apply', '--auto-approve'])
    expect(r.code, r.stderr).toBe(0)
    expect(await catalog()).toMatch(/column embedding/)
  })
})
