/**
 * SIGTERM stops a long-running command like Ctrl-C does (issue #11): after the batch in flight,
 * saying what was done and the next command, exit 143 (130 for SIGINT), and leaving state the
 * next run continues from.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, runCli, spawnCli } from '../helpers/cli.js'
import { createPgliteProject } from '../helpers/pglite-project.js'

const ROWS = 1000
let dir: string
const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 240_000 })

async function liveFreshness(): Promise<{ fresh: number; stale: number; missing: number }> {
  const r = await cli(['status', '--json'])
  expect(r.code, r.stderr).toBe(0)
  const c = JSON.parse(r.stdout).collections[0]
  return c.generations.find((g: { status: string }) => g.status === 'live').freshness
}

/** Edits every row's text while no CLI has the PGlite directory open: all of them go stale. */
async function editAllTexts(tag: string): Promise<void> {
  const db = new PGlite(join(dir, 'data'), { extensions: { vector } })
  try {
    await db.exec(`UPDATE docs SET title = title || ' ${tag}'`)
  } finally {
    await db.close()
  }
}

beforeAll(async () => {
  dir = await createPgliteProject('embedform-signals-', ROWS)
  const applied = await cli(['apply', '--auto-approve'])
  expect(applied.code, applied.stderr).toBe(0)
}, 300_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('sync stopped by a signal', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: stops after the batch in flight, says how many rows it embedded and what to run, exits ${code}; the next sync finishes`, async () => {
      await editAllTexts(signal)
      expect((await liveFreshness()).stale).toBe(ROWS)

      // At 50 rows/s the sync is still running when the signal comes, however fast the encoder.
      const run = spawnCli(['sync', 'docs', '--json', '--batch-size', '20', '--max-rate', '50'], { cwd: dir, timeoutMs: 240_000 })
      await run.waitFor((line) => (line.includes('"progress"') ? true : undefined))
      run.child.kill(signal)
      const stopped = await run.done
      expect(stopped.code, stopped.stdout + stopped.stderr).toBe(code)
      expect(stopped.signal).toBeNull()
      const error = jsonLines(stopped.stdout).find((l) => l.type === 'error')?.error as { code: string; message: string; hint: string }
      expect(error.code).toBe('E_INTERRUPTED')
      const m = /after embedding at least ([\d,]+) row\(s\); ([\d,]+) stale or missing row\(s\) of live g1 stay queued$/.exec(error.message)
      expect(m, error.message).not.toBeNull()
      const embedded = Number(m![1]!.replace(/,/g, ''))
      const left = Number(m![2]!.replace(/,/g, ''))
      expect(embedded).toBeGreaterThan(0)
      expect(error.hint).toMatch(/run `embedform sync docs` again/)

      // Every row it reported is fresh; the rest stay queued for the next run.
      const after = await liveFreshness()
      expect(after.fresh).toBeGreaterThanOrEqual(embedded)
      expect(after.stale).toBe(left)
      expect(after.stale).toBeGreaterThan(0)
      expect(after.fresh + after.stale).toBe(ROWS)

      const again = await cli(['sync', 'docs'])
      expect(again.code, again.stderr).toBe(0)
      expect(await liveFreshness()).toMatchObject({ fresh: ROWS, stale: 0, missing: 0 })
    }, 300_000)
  }
})

describe('encode stopped by SIGTERM', () => {
  it('ends after the batch in flight with complete output lines, says up to which id, exits 143', async () => {
    const input = join(dir, 'texts.jsonl')
    const output = join(dir, 'vectors.jsonl')
    writeFileSync(input, Array.from({ length: 300_000 }, (_, i) => JSON.stringify({ id: i, text: `text number ${i} about machine learning` })).join('\n'))
    const run = spawnCli(['encode', '--profile', 'starter', '--input', input, '--output', output], { cwd: dir, timeoutMs: 240_000 })
    // The first vectors on disk: the encoder is running.
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 100))
      if (readFileSync(output, { flag: 'a+' }).length > 0) break
    }
    run.child.kill('SIGTERM')
    const stopped = await run.done
    expect(stopped.code, stopped.stderr).toBe(143)
    const m = /error\[E_INTERRUPTED\] encode was interrupted after (\d+) text\(s\): .* holds their vectors, up to id (\d+), one complete line each/.exec(stopped.stderr)
    expect(m, stopped.stderr).not.toBeNull()
    const lines = readFileSync(output, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(Number(m![1]))
    expect(lines.length).toBeLessThan(300_000)
    const last = JSON.parse(lines.at(-1)!) as { id: number; vector: number[] }
    expect(last.id).toBe(Number(m![2]))
    expect(last.vector).toHaveLength(100)
  }, 300_000)
})
