import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { EmbedformErrors } from '../../../src/core/errors.js'
import { makePlan, readPlanFile, writePlanFile } from '../../../src/plan/index.js'
import type { Plan } from '../../../src/plan/types.js'
import { memoryWorld, rows, testCollection, testProfile } from '../../helpers/memory-adapter.js'

let dir: string
let plan: Plan

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'embedform-plan-'))
  const gated = testProfile('speed', { throughput: 100, gate: { metric: 'ndcg@10', queries: 'q.jsonl', maxDrop: 0.02 } })
  const w = memoryWorld({ profiles: [gated, testProfile('other')], collections: [testCollection('docs', 'speed'), testCollection('notes', 'other')] })
  w.adapter.seed('docs', rows(4))
  w.adapter.seed('notes', rows(4))
  plan = await makePlan(w.ctx)
})

async function mangled(name: string, edit: (p: Record<string, any>) => void): Promise<string> {
  const copy = JSON.parse(JSON.stringify(plan)) as Record<string, any>
  edit(copy)
  const path = join(dir, name)
  await writeFile(path, JSON.stringify(copy))
  return path
}

describe('saved plans', () => {
  it('round-trips a made plan through the 2020-12 schema', async () => {
    const path = join(dir, 'plan.json')
    await writePlanFile(path, plan)
    expect(await readPlanFile(path)).toEqual(plan)
    expect(JSON.parse(await readFile(path, 'utf8')).formatVersion).toBe(1)
  })

  it('names the file and key path of a schema violation', async () => {
    const path = await mangled('bad-kind.json', (p) => {
      p.collections[0].steps[1].kind = 'explode'
    })
    await expect(readPlanFile(path)).rejects.toMatchObject({
      code: 'E_PLAN_SCHEMA',
      kind: 'input',
      location: { file: path, path: 'collections[0].steps[1].kind' },
    })
  })

  it('reports every problem, including missing and unknown keys', async () => {
    const path = await mangled('two.json', (p) => {
      delete p.collections[1].liveVersion
      p.summary.surprise = true
    })
    const err = await readPlanFile(path).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EmbedformErrors)
    const paths = (err as EmbedformErrors).errors.map((e) => e.location?.path).sort()
    expect(paths).toEqual(['collections[1].liveVersion', 'summary.surprise'])
  })

  it('refuses files that are not JSON or not there', async () => {
    const path = join(dir, 'broken.json')
    await writeFile(path, '{"formatVersion": 1,')
    await expect(readPlanFile(path)).rejects.toMatchObject({ code: 'E_PLAN_FILE', kind: 'input', location: { file: path } })
    await expect(readPlanFile(join(dir, 'absent.json'))).rejects.toMatchObject({ code: 'E_PLAN_FILE', kind: 'input' })
  })
})
