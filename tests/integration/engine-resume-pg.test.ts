/**
 * Issue #4's crash safety on native PostgreSQL, through the built CLI: kill -9 during the
 * backfill, during the index build and right before the cutover, then apply again → it
 * completes, every row is written exactly once into the new generation (counted by a
 * test-only trigger), and the application's column is untouched until the swap. A second
 * apply while one runs is refused naming the holder; Ctrl-C stops cleanly and says how to resume.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { openEncoder } from '../../src/encoder/index.js'
import { jsonLines, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { createTestDatabase, instrumentVectorWrites, type TestDatabase } from '../helpers/pg.js'
import { mismatchedVectors, seedDocs, spamPassages, type StoredRow } from '../helpers/spam-corpus.js'

const ROWS = 2000
let db: TestDatabase
let dir: string

const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })

interface Progress {
  type: string
  step?: string
  done?: number
}

/** Matches a --json progress line: event type, step kind, and optionally rows done so far. */
function event(type: string, stepKind: string, minDone = 0) {
  return (line: string): Progress | undefined => {
    if (!line.startsWith('{')) return undefined
    const e = JSON.parse(line) as Progress
    const hit = e.type === type && e.step?.endsWith(`/${stepKind}`) && (e.done ?? 0) >= minDone
    return hit ? e : undefined
  }
}

async function liveChecksum(): Promise<string> {
  const [row] = await db.sql<{ sum: string }>(`SELECT md5(string_agg(embedding::text, ',' ORDER BY id)) AS sum FROM docs`)
  return row!.sum
}

/** Kills a fresh `apply` with SIGKILL as soon as its progress output matches `at`. */
async function killApplyAt(at: (line: string) => Progress | undefined, during?: (pid: number) => Promise<void>): Promise<void> {
  const run = spawnCli(['apply', '--auto-approve', '--json', '--batch-size', '100'], { cwd: dir, timeoutMs: 180_000 })
  await run.waitFor(at)
  if (during) await during(run.child.pid!)
  run.child.kill('SIGKILL')
  const done = await run.done
  expect(done.signal, done.stdout + done.stderr).toBe('SIGKILL')
}

beforeAll(async () => {
  db = await createTestDatabase()
  await seedDocs(db.pool, spamPassages(ROWS))
  dir = mkdtempSync(join(tmpdir(), 'embedform-resume-pg-'))
  writeProject(dir, { kind: 'pgvector', url: db.url }, 'starter')
  const first = await cli(['apply', '--auto-approve'])
  expect(first.code, first.stderr).toBe(0)
  await instrumentVectorWrites(db, 'embedding__g2', 0.25)
})

afterAll(async () => {
  await db?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('apply survives kill -9 on native PostgreSQL', () => {
  it('resumes after kills during backfill, index build and before cutover; every row written once', async () => {
    const live = await liveChecksum()
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'passage')

    await killApplyAt(event('progress', 'backfill', 300), async (pid) => {
      const second = await cli(['apply', '--auto-approve'])
      expect(second.code, second.stderr).toBe(1)
      expect(second.stderr).toContain('E_LOCK_HELD')
      expect(second.stderr).toContain(`pid ${pid}`)
    })
    const partial = await db.sql<{ n: number }>('SELECT count(*)::int AS n FROM embed_writes')
    expect(partial[0]!.n).toBeGreaterThan(0)
    expect(partial[0]!.n).toBeLessThan(ROWS)
    expect(await liveChecksum()).toBe(live)
    const inFlight = JSON.parse((await cli(['status', '--json'])).stdout).collections[0]
    expect(inFlight.journal).not.toBeNull()
    expect(inFlight.live.generation).toBe(1)

    // Ctrl-C stops cleanly after the current batch and says how to resume.
    const interrupted = spawnCli(['apply', '--auto-approve', '--json', '--batch-size', '100'], { cwd: dir, timeoutMs: 180_000 })
    await interrupted.waitFor(event('progress', 'backfill'))
    interrupted.child.kill('SIGINT')
    const stopped = await interrupted.done
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(130)
    const error = jsonLines(stopped.stdout).find((l) => l.type === 'error') as { error: { code: string; hint: string } }
    expect(error.error.code).toBe('E_INTERRUPTED')
    expect(error.error.hint).toContain('embedform apply')
    expect(await liveChecksum()).toBe(live)

    await killApplyAt(event('step-start', 'build-index'))
    expect(await liveChecksum()).toBe(live)

    await killApplyAt(event('step-end', 'verify'))

    const last = await cli(['apply', '--auto-approve', '--json'])
    expect(last.code, last.stderr + last.stdout).toBe(0)
    const status = JSON.parse((await cli(['status', '--json'])).stdout).collections[0]
    expect(status).toMatchObject({ matchesConfig: true, live: { generation: 2 }, journal: null, lock: null })
    expect(status.generations.find((g: any) => g.id === 2).index.valid).toBe(true)

    const writes = await db.sql<{ rows: number; writes: number }>('SELECT count(DISTINCT id)::int AS rows, count(*)::int AS writes FROM embed_writes')
    expect(writes[0]).toEqual({ rows: ROWS, writes: ROWS })

    const rows = await db.sql<StoredRow>('SELECT id, title, body, embedding::text AS v FROM docs ORDER BY id')
    const config = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
    const encoder = await openEncoder(config.profiles.passage!)
    try {
      expect(await mismatchedVectors(rows, (texts) => encoder.encode(texts, 'document'))).toEqual([])
    } finally {
      await encoder.close()
    }
    expect(jsonLines(last.stdout).some((l) => l.type === 'result')).toBe(true)
  })
})
