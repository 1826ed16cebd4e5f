/**
 * Issue #13 on native PostgreSQL, through the built CLI: after a cutover made while the application
 * wrote, `sync` leaves every live row with the vector of its current text; `sync --watch` follows a
 * writer, survives its connections being killed (a store restart, without restarting the shared
 * server), and stops on SIGTERM; a row the encoder rejects is recorded and never blocks the rest.
 * Freshness is checked against a fresh encode of each row's current text, never against counters.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engineContextFor } from '../../src/cli/engine-context.js'
import { loadConfig } from '../../src/config/index.js'
import { openEncoder } from '../../src/encoder/index.js'
import { sync } from '../../src/sync/index.js'
import { jsonLines, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { mismatchedWithProfile, seedDocs, spamPassages, type StoredRow } from '../helpers/spam-corpus.js'

const ROWS = 1200
let db: TestDatabase
let dir: string
const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })
const passages = spamPassages(ROWS + 2000)
let nextPassage = ROWS

function result(stdout: string): Record<string, any> {
  const line = jsonLines(stdout).find((l) => l.type === 'result')
  if (!line) throw new Error(`no result line in:\n${stdout}`)
  return line
}

async function liveFreshness(): Promise<Record<string, any>> {
  const r = await cli(['status', '--json'])
  expect(r.code, r.stderr).toBe(0)
  const c = JSON.parse(r.stdout).collections[0]
  return c.generations.find((g: any) => g.status === 'live').freshness
}

/** Rows whose live vector is not `profile`'s encode of their current text. */
async function wrongRows(profile: string): Promise<string[]> {
  const rows = await db.sql<StoredRow>(`SELECT id, title, body, embedding::text AS v FROM docs ORDER BY id`)
  return mismatchedWithProfile(rows, dir, profile)
}

/** The application: inserts new passages and edits existing rows, text only, until stopped. */
function startWriter(pauseMs: number) {
  const client = new pg.Client({ connectionString: db.url })
  const stats = { writes: 0, lastAt: 0 }
  let running = true
  const done = (async () => {
    await client.connect()
    while (running) {
      const p = passages[nextPassage++ % passages.length]!
      await client.query('INSERT INTO docs (id, title, body) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body', [2_000_000 + nextPassage, p.title, p.body])
      await client.query(`UPDATE docs SET body = $2 WHERE id = $1`, [1 + ((nextPassage * 37) % ROWS), p.body])
      stats.writes += 2
      stats.lastAt = Date.now()
      await new Promise((r) => setTimeout(r, pauseMs))
    }
    await client.end()
  })()
  return { stats, stop: async () => ((running = false), done) }
}

beforeAll(async () => {
  db = await createTestDatabase()
  await seedDocs(db.pool, spamPassages(ROWS))
  dir = mkdtempSync(join(tmpdir(), 'embedform-sync-pg-'))
  writeProject(dir, { kind: 'pgvector', url: db.url }, 'starter')
  const first = await cli(['apply', '--auto-approve', '--json'])
  expect(first.code, first.stderr + first.stdout).toBe(0)
})

afterAll(async () => {
  await db?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('sync on native PostgreSQL', () => {
  it('after texts changed during and after a cutover, and vectors the application wrote itself, leaves every row fresh', async () => {
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'passage')
    const writer = startWriter(10)
    const apply = await cli(['apply', '--auto-approve', '--json'])
    expect(apply.code, apply.stderr + apply.stdout).toBe(0)
    // After the cutover: the application keeps editing, and writes vectors of its own for some rows.
    await new Promise((r) => setTimeout(r, 1500))
    await writer.stop()
    expect(writer.stats.writes).toBeGreaterThan(50)
    await db.sql(`UPDATE docs SET embedding = array_fill(0.1::real, ARRAY[100])::vector WHERE id IN (3, 4, 5)`)
    expect((await wrongRows('passage')).length).toBeGreaterThan(3)

    const run = await cli(['sync', 'docs', '--json', '--detailed-exitcode'])
    expect(run.code, run.stderr + run.stdout).toBe(3)
    const res = result(run.stdout)
    expect(res.generations).toHaveLength(1)
    expect(res.generations[0].embedded).toBeGreaterThan(3)
    expect(await wrongRows('passage')).toEqual([])
    expect(await liveFreshness()).toMatchObject({ stale: 0, missing: 0, queued: 0, oldestQueuedAt: null })

    const again = await cli(['sync', 'docs', '--detailed-exitcode'])
    expect(again.code, again.stderr + again.stdout).toBe(0)
    expect(again.stdout).toContain('0 row(s) embedded')
  })

  it('with --all-generations also refreshes the retained generation, so a rollback re-embeds nothing', async () => {
    await db.sql(`UPDATE docs SET body = body || ' (edited for the retained generation)' WHERE id BETWEEN 10 AND 29`)
    const run = await cli(['sync', '--all-generations', '--json'])
    expect(run.code, run.stderr + run.stdout).toBe(0)
    const res = result(run.stdout)
    expect(res.generations.map((g: any) => [g.status, g.embedded])).toEqual([
      ['live', 20],
      ['retained', expect.any(Number)],
    ])
    const retained = res.generations[1]
    expect(retained.after).toMatchObject({ stale: 0, missing: 0, queued: 0 })
    expect(retained.embedded).toBeGreaterThanOrEqual(20)
  })

  it('--watch follows a writer within the reported lag, survives its connections being killed, and stops on SIGTERM', async () => {
    const watcher = spawnCli(['sync', 'docs', '--watch', '--json', '--sweep-ms', '3000'], { cwd: dir, timeoutMs: 180_000 })
    try {
      await watcher.waitFor((l) => (l.includes('"watching"') ? true : undefined), 60_000)
      const writer = startWriter(20)
      const lags: number[] = []
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 700))
        const f = await liveFreshness()
        lags.push(f.oldestQueuedAt ? Date.now() - Date.parse(f.oldestQueuedAt) : 0)
      }
      await writer.stop()
      const stoppedAt = writer.stats.lastAt
      // Every change is embedded within the largest lag status reported (plus one status round trip).
      const bound = Math.max(...lags) + 3000
      let f = await liveFreshness()
      while (f.queued > 0 && Date.now() - stoppedAt < bound) f = await liveFreshness()
      expect(f, `lags reported: ${lags.join(', ')} ms`).toMatchObject({ queued: 0, stale: 0, missing: 0 })
      expect(await wrongRows('passage')).toEqual([])

      // A store restart, as the watcher sees it: every connection it holds is cut.
      const killed = await db.sql<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'embedform%'`,
      )
      expect(killed[0]!.n).toBeGreaterThanOrEqual(1)
      await watcher.waitFor((l) => (l.includes('"disconnected"') ? true : undefined), 30_000)
      const before = jsonLines(watcher.stdout).filter((l) => l.type === 'watching').length
      await watcher.waitFor((l) => (l.includes('"watching"') && jsonLines(watcher.stdout).filter((x) => x.type === 'watching').length > before ? true : undefined), 60_000)
      await db.sql(`UPDATE docs SET body = 'written after the store came back' WHERE id = 7`)
      const deadline = Date.now() + 15_000
      while ((await liveFreshness()).queued > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
      expect(await wrongRows('passage')).toEqual([])
      // Woken by NOTIFY, not by the sweep: a notify pass embedded the row.
      expect(jsonLines(watcher.stdout).some((l) => l.type === 'sync-pass' && l.reason === 'notify' && (l.embedded as number) > 0)).toBe(true)
    } finally {
      watcher.child.kill('SIGTERM')
    }
    const end = await watcher.done
    expect(end.code, end.stderr).toBe(0)
    expect(result(end.stdout)).toMatchObject({ ok: true, collection: 'docs' })
  })

  it('two watchers share the queue by leased slices; when one is SIGKILLed the other takes its slices over', async () => {
    const args = ['sync', 'docs', '--watch', '--json', '--sweep-ms', '2000', '--lease-ms', '1000']
    const a = spawnCli(args, { cwd: dir, timeoutMs: 180_000 })
    const b = spawnCli(args, { cwd: dir, timeoutMs: 180_000 })
    const embeddedBy = (w: typeof a) => jsonLines(w.stdout).reduce((n, l) => n + (l.type === 'sync-pass' ? (l.embedded as number) : 0), 0)
    try {
      await a.waitFor((l) => (l.includes('"watching"') ? true : undefined), 60_000)
      await b.waitFor((l) => (l.includes('"watching"') ? true : undefined), 60_000)
      let writer = startWriter(15)
      // Both watchers take part: wait (bounded) until each has reported a pass that embedded rows.
      const shared = Date.now() + 60_000
      await new Promise((r) => setTimeout(r, 2500))
      while ((embeddedBy(a) === 0 || embeddedBy(b) === 0) && Date.now() < shared) await new Promise((r) => setTimeout(r, 250))
      await writer.stop()
      expect(embeddedBy(a)).toBeGreaterThan(0)
      expect(embeddedBy(b)).toBeGreaterThan(0)
      // Killed with its slices leased: the survivor takes them over once the leases expire.
      b.child.kill('SIGKILL')
      writer = startWriter(15)
      await new Promise((r) => setTimeout(r, 2000))
      await writer.stop()
      const deadline = Date.now() + 30_000
      let f = await liveFreshness()
      while (f.queued > 0 && Date.now() < deadline) f = await liveFreshness()
      expect(f).toMatchObject({ queued: 0, stale: 0, missing: 0 })
      expect(await wrongRows('passage')).toEqual([])
      const holders = await db.sql<{ holder: string | null }>(`SELECT DISTINCT holder FROM embedform.leases WHERE kind = 'sync' AND holder IS NOT NULL`)
      expect(holders.every((h) => !h.holder!.includes(`pid ${b.child.pid} `))).toBe(true)
    } finally {
      a.child.kill('SIGTERM')
      b.child.kill('SIGKILL')
    }
    const end = await a.done
    expect(end.code, end.stderr).toBe(0)
  })

  it('records a row the encoder rejects, retries it with backoff, and embeds every other row', async () => {
    await db.sql(`INSERT INTO docs (id, title, body) VALUES (5000001, 'POISON', 'the tokenizer rejects this row'), (5000002, 'fine', 'an ordinary new row')`)
    await db.sql(`UPDATE docs SET body = 'an ordinary edit' WHERE id = 8`)
    const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
    const ctx = engineContextFor(config, {
      openEncoder: async (profile, opts) => {
        const real = await openEncoder(profile, opts)
        const encode = async (texts: string[], kind: 'query' | 'document') => {
          if (texts.some((t) => t.includes('POISON'))) throw new Error('text rejected by the tokenizer')
          return real.encode(texts, kind)
        }
        return { dimensions: real.dimensions, provider: real.provider, encode, encodeStream: (b, k) => real.encodeStream(b, k), close: () => real.close() }
      },
    })
    try {
      const res = await sync(ctx, 'docs', { retryBaseMs: 50, rowAttempts: 3 })
      const g = res.generations[0]!
      expect(g.failed).toEqual([expect.objectContaining({ key: '5000001', attempts: 3, error: 'text rejected by the tokenizer' })])
      expect(g.after).toMatchObject({ stale: 0, missing: 1, queued: 1 })
    } finally {
      await ctx.close()
    }
    const wrong = await wrongRows('passage')
    expect(wrong).toEqual(['5000001: no vector'])
    // status lists it from the store's failed-items record …
    const status = await cli(['status', '--json'])
    expect(JSON.parse(status.stdout).collections[0].failedItems).toEqual([expect.objectContaining({ key: '5000001', attempts: 3, error: 'text rejected by the tokenizer' })])
    const human = await cli(['status'])
    expect(human.stdout).toContain('failed rows:    1')
    // … until the row can be embedded: the application fixed its text.
    await db.sql(`UPDATE docs SET title = 'fixed' WHERE id = 5000001`)
    const fixed = await cli(['sync', '--json'])
    expect(fixed.code, fixed.stderr + fixed.stdout).toBe(0)
    expect(JSON.parse((await cli(['status', '--json'])).stdout).collections[0].failedItems).toEqual([])
    expect(await wrongRows('passage')).toEqual([])
  })
})
