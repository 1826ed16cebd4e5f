/**
 * The proof that a new store needs only a new package: LanceDB, loaded through `plugins:` by its
 * npm name, migrated by the built CLI (plan, apply, a second profile, rollback, search) with no
 * change to embedform itself.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { connect } from '@lancedb/lancedb'
import type * as Arrow from 'apache-arrow'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, openEncoder } from 'embedform'
import { jsonLines, PROFILES, runCli } from '../../../tests/helpers/cli.js'
import { passageText, spamPassages } from '../../../tests/helpers/spam-corpus.js'

const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow
const ROWS = 300
let dir: string

const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })

function writeConfig(profile: string): void {
  writeFileSync(
    join(dir, 'embedding.config.yaml'),
    `version: 1
plugins:
  - "@embedform/store-lancedb"
stores:
  lance:
    kind: lancedb
    path: ./lance
collections:
  docs:
    store: lance
    table: docs
    key: id
    text: [title, body]
    vector: embedding
    profile: ${profile}
`,
  )
}

/** Reads the column the application reads and checks every row against a fresh encode. */
async function expectEmbeddedWith(profile: string): Promise<void> {
  const db = await connect(join(dir, 'lance'))
  const rows = await (await db.openTable('docs')).query().select(['id', 'title', 'body', 'embedding']).toArray()
  db.close()
  const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  const encoder = await openEncoder(config.profiles[profile]!)
  try {
    expect(rows).toHaveLength(ROWS)
    const want = await encoder.encode(rows.map((r) => passageText({ title: String(r.title), body: String(r.body) })), 'document')
    const bad = rows.filter((r, i) => {
      const got = (r.embedding as { toArray(): Float32Array } | null)?.toArray()
      return !got || got.some((x, k) => Math.abs(x - want[i]![k]!) > 1e-4)
    })
    expect(bad.map((r) => Number(r.id))).toEqual([])
  } finally {
    await encoder.close()
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-lance-cli-'))
  // Installed as a user would have it: node_modules/@embedform/store-lancedb in the project.
  mkdirSync(join(dir, 'node_modules', '@embedform'), { recursive: true })
  symlinkSync(resolve(import.meta.dirname, '..'), join(dir, 'node_modules', '@embedform', 'store-lancedb'), 'dir')
  mkdirSync(join(dir, 'profiles'))
  for (const [name, yaml] of Object.entries(PROFILES)) writeFileSync(join(dir, 'profiles', `${name}.yaml`), yaml)
  writeConfig('starter')
  const db = await connect(join(dir, 'lance'))
  const schema = new arrow.Schema([new arrow.Field('id', new arrow.Int64(), false), new arrow.Field('title', new arrow.Utf8(), true), new arrow.Field('body', new arrow.Utf8(), true)])
  const table = await db.createEmptyTable('docs', schema)
  await table.add(spamPassages(ROWS).map((p, i) => ({ id: i + 1, title: p.title, body: p.body })))
  db.close()
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('LanceDB through the built CLI, loaded with plugins:', () => {
  it('plans, applies, migrates, rolls back and searches', async () => {
    const plan = await cli(['plan', '--json', '--no-measure'])
    expect(plan.code, plan.stderr).toBe(0)
    const steps = JSON.parse(plan.stdout).collections[0].steps as { kind: string; title: string }[]
    expect(steps.map((s) => s.kind)).toEqual(['create-generation', 'backfill', 'catch-up', 'build-index', 'verify', 'cutover'])
    expect(steps.find((s) => s.kind === 'build-index')!.title).toMatch(/ivf_hnsw_sq\(m=20, ef_construction=300\)/)

    const first = await cli(['apply', '--auto-approve'])
    expect(first.code, first.stderr + first.stdout).toBe(0)
    await expectEmbeddedWith('starter')

    writeConfig('passage')
    const migrate = await cli(['apply', '--auto-approve', '--json'])
    expect(migrate.code, migrate.stderr + migrate.stdout).toBe(0)
    const result = jsonLines(migrate.stdout).find((l) => l.type === 'result') as Record<string, any>
    expect(result.collections[0]).toMatchObject({ change: 'new-generation', generation: 2, rowsWritten: ROWS })
    await expectEmbeddedWith('passage')

    const found = await cli(['search', 'cheap mortgage rates', '-k', '3', '--json'])
    expect(found.code, found.stderr).toBe(0)
    expect((JSON.parse(found.stdout) as { hits: unknown[] }).hits).toHaveLength(3)

    const back = await cli(['rollback', '--auto-approve'])
    expect(back.code, back.stderr + back.stdout).toBe(0)
    expect(back.stdout).toContain('g2 → g1')
    await expectEmbeddedWith('starter')
    const status = JSON.parse((await cli(['status', '--json'])).stdout).collections[0]
    expect(status).toMatchObject({ live: { generation: 1, profile: 'starter' } })

    const after = await cli(['search', 'cheap mortgage rates', '-k', '3', '--json'])
    expect(after.code, after.stderr).toBe(0)
    expect(JSON.parse(after.stdout)).toMatchObject({ generation: 1 })
  })
})
