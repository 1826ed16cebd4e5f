/**
 * Issue #11 through the built CLI on PGlite: gc confirms like apply and refuses to drop vectors of
 * an unknown model without --force; rollback says how to make it stick (or does it with
 * --update-config); an apply stopped by SIGTERM is described the same way by status and apply,
 * with one next command that works.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { seedDocs, spamPassages } from '../helpers/spam-corpus.js'

let dir: string
const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })
const useProfile = (profile: string) => writeProject(dir, { kind: 'pglite', path: 'data' }, profile)

async function statusOf(): Promise<Record<string, any>> {
  const r = await cli(['status', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout).collections[0]
}

const errorOf = (stdout: string) => (JSON.parse(stdout) as { error: { code: string; message: string; hint?: string } }).error

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-gc-rollback-'))
  useProfile('starter')
  const db = new PGlite(join(dir, 'data'), { extensions: { vector } })
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector')
    await seedDocs(db, spamPassages(3000))
    // Vectors some earlier pipeline made, with a model embedform has never heard of.
    await db.exec('ALTER TABLE docs ADD COLUMN embedding vector(100)')
    await db.exec('UPDATE docs SET embedding = (SELECT array_agg(sin(id * 7 + i))::vector(100) FROM generate_series(1, 100) i)')
  } finally {
    await db.close()
  }
}, 120_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('an apply stopped by SIGTERM', () => {
  it('stops after the current batch, and status and apply name the same state and next command', async () => {
    const run = spawnCli(['apply', '--auto-approve', '--json', '--batch-size', '100'], { cwd: dir, timeoutMs: 180_000 })
    await run.waitFor((line) => (line.includes('"step-start"') && line.includes('backfill') ? true : undefined))
    run.child.kill('SIGTERM')
    const stopped = await run.done
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(143)
    const error = jsonLines(stopped.stdout).find((l) => l.type === 'error')?.error as { code: string; hint: string }
    expect(error.code).toBe('E_INTERRUPTED')

    const s = await statusOf()
    expect(s.inFlight.state).toMatch(/→ g2, \d+ step\(s\) done/)
    const at: string | undefined = s.journal.failed?.step ?? s.journal.current
    expect(s.inFlight.next).toBe(`\`embedform apply\` resumes it${at ? ` at ${at}` : ''}, or \`embedform rollback --collection docs\` abandons it`)
    const human = await cli(['status'])
    expect(human.stdout).toContain(`next:           ${s.inFlight.next}`)

    // From a checkout that did not start it, apply refuses with the very same description.
    const plans = join(dir, '.embedform', 'plans')
    const stash = readFileSync(join(plans, `${s.journal.planId}.json`))
    rmSync(plans, { recursive: true })
    const elsewhere = await cli(['apply', '--auto-approve', '--json'])
    expect(elsewhere.code).toBe(2)
    const refusal = jsonLines(elsewhere.stdout).find((l) => l.type === 'error')?.error as { code: string; hint: string }
    expect(refusal.code).toBe('E_APPLY_IN_PROGRESS')
    expect(refusal.hint).toBe((await statusOf()).inFlight.next)
    mkdirSync(plans, { recursive: true })
    writeFileSync(join(plans, `${s.journal.planId}.json`), stash)

    const resumed = await cli(['apply', '--auto-approve'])
    expect(resumed.code, resumed.stderr).toBe(0)
    const done = await statusOf()
    expect(done).toMatchObject({ matchesConfig: true, live: { generation: 2 }, journal: null })
    expect(done.generations.map((g: any) => [g.id, g.status]).sort()).toEqual([[1, 'retained'], [2, 'live']])
  }, 300_000)
})

describe('eval', () => {
  it('skips an adopted generation of unknown model by default, saying so, and scores the others', async () => {
    writeFileSync(join(dir, 'queries.jsonl'), '{"_id":"q1","text":"cheap mortgage rates"}\n{"_id":"q2","text":"free vacation offer"}\n')
    const r = await cli(['eval', '--queries', 'queries.jsonl', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as { generations: { generation: number }[]; skipped: { generation: number; hint: string }[] }
    expect(report.generations.map((g) => g.generation)).toEqual([2])
    expect(report.skipped).toMatchObject([{ generation: 1, hint: expect.stringMatching(/adopted_profile/) }])
    const human = await cli(['eval', '--queries', 'queries.jsonl'])
    expect(human.stderr).toMatch(/note: skipped g1: generation g1 of collection "docs" was adopted from existing vectors and its model is unknown/)
    const named = await cli(['eval', '--queries', 'queries.jsonl', '--generation', 'g1'])
    expect(named.code).toBe(2)
    expect(named.stderr).toContain('E_GENERATION_MODEL_UNKNOWN')
  })
})

describe('gc', () => {
  it('needs --auto-approve without a terminal', async () => {
    const r = await cli(['gc', '--keep', '0', '--json'])
    expect(r.code).toBe(2)
    expect(errorOf(r.stdout).code).toBe('E_NEEDS_APPROVAL')
  })

  it('refuses to drop an adopted generation of an unknown model without --force, saying why', async () => {
    const r = await cli(['gc', '--keep', '0', '--auto-approve', '--json'])
    expect(r.code, r.stderr).toBe(2)
    const e = errorOf(r.stdout)
    expect(e.code).toBe('E_GC_IRREPLACEABLE')
    expect(e.message).toMatch(/g1 was adopted with vectors of an unknown model and no profile: once dropped, embedform cannot re-create them/)
    expect(e.hint).toMatch(/--keep 1.*--force/)
    const dry = await cli(['gc', '--keep', '0', '--dry-run'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/Refused without --force \(1\):\n {2}docs g1 \(embedding__g1\): g1 was adopted/)
    expect((await statusOf()).generations).toHaveLength(2)
  })
})

describe('rollback', () => {
  it('prints the profile use command that makes it stick, and --update-config runs it', async () => {
    useProfile('passage')
    expect((await cli(['apply', '--auto-approve'])).code).toBe(0)
    const back = await cli(['rollback', '--auto-approve', '--to', 'g2'])
    expect(back.code, back.stderr).toBe(0)
    expect(back.stdout).toContain('To make it stick, point the configuration at profile starter: `embedform profile use starter --collection docs`')
    expect(back.stdout).not.toMatch(/embedform apply` fills/)

    expect((await cli(['apply', '--auto-approve'])).code).toBe(0)
    const sticky = await cli(['rollback', '--auto-approve', '--update-config', '--json'])
    expect(sticky.code, sticky.stderr).toBe(0)
    expect(JSON.parse(sticky.stdout)).toMatchObject({ to: 2, advice: { kind: 'profile-use', profile: 'starter' }, configUpdated: [{ path: 'collections.docs.profile', from: 'passage', to: 'starter' }] })
    expect(readFileSync(join(dir, 'embedding.config.yaml'), 'utf8')).toContain('profile: starter')
    expect((await cli(['plan', '--no-measure', '--detailed-exitcode'])).code).toBe(0)
  }, 300_000)

  it('gc --force drops what cannot be re-created too', async () => {
    const r = await cli(['gc', '--keep', '0', '--auto-approve', '--force'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/docs g1 \(embedding__g1, 3000 vectors\) — cannot be re-created/)
    expect((await statusOf()).generations.map((g: any) => g.id)).toEqual([2])
  })
})
