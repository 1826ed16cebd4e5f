/**
 * Saved plans cannot lie (issue #11), through the built CLI on PGlite: `apply plan.json` makes
 * the plan again from the configuration and the live state and refuses (exit 2) an edited
 * model, a deleted verify step, or a target pointed at a retained generation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROFILES, runCli, writeProject } from '../helpers/cli.js'
import { seedDocs, spamPassages } from '../helpers/spam-corpus.js'

let dir: string
const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })
const useProfile = (profile: string) => writeProject(dir, { kind: 'pglite', path: 'data' }, profile)

type PlanJson = { collections: { to: { generation: number }; profile: { model: { source: string } }; steps: { kind: string }[] }[] }

async function savePlan(file: string): Promise<PlanJson> {
  const r = await cli(['plan', '--no-measure', '-o', file])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as PlanJson
}

function edit(file: string, change: (p: PlanJson) => void): void {
  const plan = JSON.parse(readFileSync(join(dir, file), 'utf8')) as PlanJson
  change(plan)
  writeFileSync(join(dir, file), JSON.stringify(plan, null, 2))
}

async function refused(file: string): Promise<{ code: string; message: string }[]> {
  const r = await cli(['apply', file, '--json'])
  expect(r.code, r.stdout + r.stderr).toBe(2)
  const line = r.stdout.split('\n').find((l) => l.includes('"type":"error"'))
  const error = (JSON.parse(line ?? '{}') as { error: { code: string; message: string; errors?: { code: string; message: string }[] } }).error
  return error.errors ?? [error]
}

async function liveGeneration(): Promise<number> {
  const r = await cli(['status', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as { collections: { live: { generation: number } }[] }).collections[0]!.live.generation
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-plan-trust-'))
  PROFILES.third = 'name: third\nextends: starter\nprefixes: { document: "third: ", query: "q: " }\n'
  useProfile('starter')
  const db = new PGlite(join(dir, 'data'), { extensions: { vector } })
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector')
    await seedDocs(db, spamPassages(60))
  } finally {
    await db.close()
  }
  const first = await cli(['apply', '--auto-approve'])
  expect(first.code, first.stderr).toBe(0)
}, 240_000)

afterAll(() => {
  delete PROFILES.third
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('apply PLAN_FILE trusts nothing in the file', () => {
  it('refuses a plan whose model.source was edited: the fingerprint is recomputed from the profile in the plan', async () => {
    useProfile('passage')
    await savePlan('edited-model.json')
    edit('edited-model.json', (p) => {
      p.collections[0]!.profile.model.source = 'builtin:starter-random'
    })
    const errors = await refused('edited-model.json')
    expect(errors.every((e) => e.code === 'E_PLAN_MISMATCH')).toBe(true)
    expect(errors.map((e) => e.message).join('\n')).toMatch(/its profile has fingerprint [0-9a-f]{8}…, but the plan claims/)
    expect(await liveGeneration()).toBe(1)
  })

  it('refuses a plan whose verify step was deleted', async () => {
    await savePlan('no-verify.json')
    edit('no-verify.json', (p) => {
      p.collections[0]!.steps = p.collections[0]!.steps.filter((s) => s.kind !== 'verify')
    })
    const errors = await refused('no-verify.json')
    expect(errors.map((e) => e.message).join('\n')).toMatch(/its steps differ from the ones the live state needs \(missing docs\/g2\/verify\)/)
    expect(await liveGeneration()).toBe(1)
  })

  it('applies an unedited plan, then refuses a new plan pointed at the retained generation', async () => {
    await savePlan('good.json')
    const applied = await cli(['apply', 'good.json'])
    expect(applied.code, applied.stderr).toBe(0)
    expect(await liveGeneration()).toBe(2)

    useProfile('third')
    await savePlan('retarget.json')
    edit('retarget.json', (p) => {
      p.collections[0]!.to.generation = 1
    })
    const errors = await refused('retarget.json')
    expect(errors.map((e) => e.message).join('\n')).toMatch(/its target is g1 \(third, fingerprint [0-9a-f]{8}\), the live state needs g3 \(third/)
    expect(await liveGeneration()).toBe(2)
  })
})
