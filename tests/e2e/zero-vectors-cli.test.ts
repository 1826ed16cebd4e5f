/**
 * `zero_vectors: skip` through the built CLI: rows whose text encodes to all zeros get no vector
 * but count as done (skipped), on PGlite (NULL) and on the OpenSearch double (no knn_vector field,
 * where cosinesimil refuses a zero vector). Run `npm run build` first.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, writeProject } from '../helpers/cli.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'
import { createApplicationIndex, writeOpenSearchProject, wrongLiveDocs } from '../helpers/opensearch-project.js'
import { createPgliteProject } from '../helpers/pglite-project.js'
import { mismatchedWithProfile, type StoredRow } from '../helpers/spam-corpus.js'

const SKIPPER = `name: skipper
extends: starter
zero_vectors: skip
`

describe('zero_vectors: skip on PGlite (built CLI)', () => {
  let dir: string
  let emptyIds: number[]
  const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })
  /** PGlite is one process's database: opened only while no CLI runs. */
  const withDb = async <T>(fn: (db: PGlite) => Promise<T>): Promise<T> => {
    const db = new PGlite(join(dir, 'data'), { extensions: { vector } })
    try {
      return await fn(db)
    } finally {
      await db.close()
    }
  }
  const storedRows = () => withDb(async (db) => (await db.query<StoredRow>('SELECT id, title, body, embedding::text AS v FROM docs ORDER BY id')).rows)
  const liveGeneration = async () => {
    const r = await cli(['status', '--json'])
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout).collections[0].generations.find((g: { status: string }) => g.status === 'live')
  }

  beforeAll(async () => {
    dir = await createPgliteProject('embedform-zero-', 60)
    writeFileSync(join(dir, 'profiles', 'skipper.yaml'), SKIPPER)
    writeProject(dir, { kind: 'pglite', path: 'data' }, 'skipper')
    emptyIds = await withDb(async (db) => {
      const ids = (await db.query<{ id: number }>('SELECT id FROM docs ORDER BY id LIMIT 3 OFFSET 10')).rows.map((r) => Number(r.id))
      // Two empty rows and one whose words the model does not know: all three encode to zeros.
      await db.query(`UPDATE docs SET title = '', body = '' WHERE id = ANY($1::bigint[])`, [ids.slice(0, 2)])
      await db.query(`UPDATE docs SET title = 'zzqxv', body = 'qqqzzk xxyzzy' WHERE id = $1`, [ids[2]])
      return ids
    })
  })
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('apply stores NULL for rows that encode to zeros and a fresh vector for every other row', async () => {
    const r = await cli(['apply', '--auto-approve'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const rows = await storedRows()
    expect(rows).toHaveLength(60)
    expect(rows.filter((row) => row.v === null).map((row) => Number(row.id))).toEqual(emptyIds)
    const withText = rows.filter((row) => !emptyIds.includes(Number(row.id)))
    expect(await mismatchedWithProfile(withText, dir, 'skipper')).toEqual([])
  })

  it('status counts them skipped, not missing, in JSON and in the table', async () => {
    const g = await liveGeneration()
    expect(g).toMatchObject({ populated: 57, missing: 0, skipped: 3, freshness: { rows: 60, fresh: 57, stale: 0, missing: 0, skipped: 3, queued: 0 } })
    const human = await cli(['status'])
    expect(human.stdout).toMatch(/MISSING\s+SKIPPED/)
    expect(human.stdout).toContain('skipped:        g1 3 (zero_vectors: skip')
    const plan = await cli(['plan', '--json', '--no-measure'])
    expect(JSON.parse(plan.stdout).zeroVectors).toEqual([{ collection: 'docs', generation: 1, status: 'live', profile: 'skipper', zeroVectors: 'skip', count: 0, skipped: 3 }])
  })

  it('a skipped row given text is embedded by sync, the others stay skipped', async () => {
    const [edited] = emptyIds
    await withDb((db) => db.query(`UPDATE docs SET title = 'kernel news', body = 'the linux kernel release notes are out' WHERE id = $1`, [edited]))
    expect(await liveGeneration()).toMatchObject({ missing: 1, skipped: 2, freshness: { missing: 1, skipped: 2, queued: 1 } })
    const sync = await cli(['sync'])
    expect(sync.code, sync.stderr + sync.stdout).toBe(0)
    const rows = await storedRows()
    const row = rows.find((r) => Number(r.id) === edited)!
    expect(row.v).not.toBeNull()
    expect(await mismatchedWithProfile([row], dir, 'skipper')).toEqual([])
    expect(rows.filter((r) => r.v === null).map((r) => Number(r.id))).toEqual(emptyIds.slice(1))
    expect(await liveGeneration()).toMatchObject({ populated: 58, missing: 0, skipped: 2, freshness: { fresh: 58, missing: 0, skipped: 2, queued: 0 } })
  })
})

/** Not normalized, metric cosine: the adapter maps it to space_type cosinesimil, which refuses zero vectors. */
const RAW = `name: raw
extends: starter
normalize: false
`
const RAW_SKIP = `name: raw-skip
extends: raw
zero_vectors: skip
`
const writeProjectFor = (dir: string, node: string, profile: string) => writeOpenSearchProject(dir, node, profile, { raw: RAW, 'raw-skip': RAW_SKIP })

describe('zero_vectors: skip on OpenSearch under cosinesimil (HTTP double, built CLI)', () => {
  let d: OpenSearchDouble
  let dir: string
  const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })

  beforeAll(async () => {
    d = await startOpenSearchDouble()
    dir = mkdtempSync(join(tmpdir(), 'embedform-zero-os-'))
    createApplicationIndex(d)
    for (let i = 1; i <= 12; i++) {
      const empty = i === 4 || i === 9
      d.cluster.write({ op: 'index', index: 'docs', id: String(i), source: { id: i, title: empty ? '' : `note ${i}`, body: empty ? '' : `garden tomatoes and linux kernels ${i}`, updated_at: 1_700_000_000_000 + i } })
    }
    d.cluster.refresh('docs')
  })
  afterAll(async () => {
    await d?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('keep fails with E_ZERO_VECTOR, whose hint names zero_vectors: skip', async () => {
    writeProjectFor(dir, d.url, 'raw')
    const r = await cli(['apply', '--auto-approve'])
    expect(r.code, r.stderr + r.stdout).toBe(2)
    expect(r.stderr).toContain('error[E_ZERO_VECTOR]')
    expect(r.stderr).toMatch(/hint: .*`zero_vectors: skip`/)
    // Refused before anything was sent, not retried as if the store were unreachable.
    expect(r.stderr).not.toContain('retry')
    // The failed apply stays in flight until abandoned, as its hint says.
    const abandon = await cli(['rollback', '--collection', 'docs', '--auto-approve'])
    expect(abandon.code, abandon.stderr + abandon.stdout).toBe(0)
  })

  it('skip applies: those documents have no knn_vector field, the others a fresh vector, and status counts them skipped', async () => {
    writeProjectFor(dir, d.url, 'raw-skip')
    const r = await cli(['apply', '--auto-approve'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const live = [...(d.cluster.aliases.get('docs') ?? new Map<string, boolean>()).keys()][0] as string
    const idx = d.cluster.index(live)
    for (const id of ['4', '9']) {
      const doc = idx.docs.get(id)!
      expect(doc.source.embedding).toBeUndefined()
      expect(doc.source.embedform).toMatchObject({ skipped: true })
    }
    expect(await wrongLiveDocs(d, dir, 'raw-skip')).toEqual(['4: no vector', '9: no vector'])
    const status = await cli(['status', '--json'])
    expect(status.code, status.stderr).toBe(0)
    const g = JSON.parse(status.stdout).collections[0].generations.find((x: { status: string }) => x.status === 'live')
    expect(g).toMatchObject({ populated: 10, missing: 0, skipped: 2, freshness: { rows: 12, fresh: 10, missing: 0, skipped: 2 } })
  })
})
