/**
 * Issue #4 on the embedded default, PGlite on disk, through the built CLI only: embed ~1,000
 * real passages with starter, migrate to a new fingerprint, roll back, plan back to the first
 * profile (nothing to do), then roll forward without re-embedding.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { openEncoder } from '../../src/encoder/index.js'
import { jsonLines, runCli, writeProject } from '../helpers/cli.js'
import { mismatchedVectors, seedDocs, spamPassages, type StoredRow } from '../helpers/spam-corpus.js'

const ROWS = 1000
let dir: string

const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })
const useProfile = (profile: string) => writeProject(dir, { kind: 'pglite', path: 'data' }, profile)

async function statusOf(): Promise<Record<string, any>> {
  const r = await cli(['status', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout).collections[0]
}

/** Opens the data directory only while no CLI runs: PGlite is one process's database. */
async function expectEmbeddedWith(profile: string): Promise<void> {
  const db = new PGlite(join(dir, 'data'), { extensions: { vector } })
  let rows: StoredRow[]
  try {
    rows = (await db.query<StoredRow>('SELECT id, title, body, embedding::text AS v FROM docs ORDER BY id')).rows
  } finally {
    await db.close()
  }
  const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
  const encoder = await openEncoder(config.profiles[profile]!)
  try {
    expect(rows).toHaveLength(ROWS)
    expect(await mismatchedVectors(rows, (texts) => encoder.encode(texts, 'document'))).toEqual([])
  } finally {
    await encoder.close()
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-pglite-'))
  useProfile('starter')
  const db = new PGlite(join(dir, 'data'), { extensions: { vector } })
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector')
    await seedDocs(db, spamPassages(ROWS))
  } finally {
    await db.close()
  }
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('migration on PGlite through the CLI', () => {
  it('embeds, migrates to a new fingerprint and back, rolls back and forward without re-embedding', async () => {
    expect((await cli(['plan', '--detailed-exitcode', '--no-measure'])).code).toBe(3)
    const first = await cli(['apply', '--auto-approve'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain('Apply complete')
    // Not a terminal: progress is plain lines on stderr, one per step, with the backfill rate.
    expect(first.stderr).toMatch(new RegExp(`backfill g1 with starter: done in [\\d.]+s, ${ROWS} rows at \\d+ rows/s`))
    const human = await cli(['status'])
    expect(human.stdout).toContain('matches config: yes')
    await expectEmbeddedWith('starter')

    useProfile('passage')
    const migrate = await cli(['apply', '--auto-approve', '--json'])
    expect(migrate.code, migrate.stderr + migrate.stdout).toBe(0)
    const result = jsonLines(migrate.stdout).find((l) => l.type === 'result') as Record<string, any>
    expect(result.collections[0]).toMatchObject({ change: 'new-generation', generation: 2, rowsWritten: ROWS })
    await expectEmbeddedWith('passage')

    const back = await cli(['rollback', '--auto-approve'])
    expect(back.code, back.stderr).toBe(0)
    expect(back.stdout).toContain('g2 → g1')
    expect(await statusOf()).toMatchObject({ live: { generation: 1, profile: 'starter' }, matchesConfig: false })
    await expectEmbeddedWith('starter')

    // Back to the first profile: the rolled-back state already is it.
    useProfile('starter')
    expect((await cli(['plan', '--detailed-exitcode', '--no-measure'])).code).toBe(0)

    useProfile('passage')
    const forwardPlan = JSON.parse((await cli(['plan', '--json', '--no-measure'])).stdout)
    expect(forwardPlan.collections[0].change).toBe('cutover-retained')
    expect(forwardPlan.collections[0].steps.map((s: any) => s.kind)).not.toContain('backfill')
    const forward = await cli(['apply', '--auto-approve', '--json'])
    expect(forward.code, forward.stderr + forward.stdout).toBe(0)
    const forwardResult = jsonLines(forward.stdout).find((l) => l.type === 'result') as Record<string, any>
    expect(forwardResult.collections[0]).toMatchObject({ generation: 2, rowsWritten: 0 })
    expect(await statusOf()).toMatchObject({ live: { generation: 2 }, matchesConfig: true })
    await expectEmbeddedWith('passage')
  }, 300_000)
})
