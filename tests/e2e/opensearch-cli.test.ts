/**
 * The built CLI against the OpenSearch HTTP double: plan, apply (adopting a concrete index
 * named like the alias), a profile change that makes a second generation, rollback and gc.
 * Run `npm run build` first.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'
import { createApplicationIndex, writeOpenSearchProject } from '../helpers/opensearch-project.js'


const TOPICS = ['mortgage rates fall again', 'linux kernel release notes', 'garden tomatoes in july', 'football cup final tonight', 'cheap flights to lisbon']

describe('embedform CLI on OpenSearch (HTTP double, built CLI)', () => {
  let d: OpenSearchDouble
  let dir: string
  const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })
  const writeConfig = (profile: string) => writeOpenSearchProject(dir, d.url, profile)

  beforeAll(async () => {
    d = await startOpenSearchDouble()
    dir = mkdtempSync(join(tmpdir(), 'embedform-os-e2e-'))
    writeConfig('starter')
    createApplicationIndex(d)
    for (let i = 1; i <= 40; i++) {
      const topic = TOPICS[i % TOPICS.length] as string
      d.cluster.write({ op: 'index', index: 'docs', id: String(i), source: { id: i, title: `note ${i}`, body: `${topic} (${i})`, updated_at: 1_700_000_000_000 + i } })
    }
    d.cluster.refresh('docs')
  })
  afterAll(async () => {
    await d?.close()
  })

  it('plans the first generation over the concrete index', async () => {
    const r = await cli(['plan', '--json'])
    expect([0, 3], r.stderr).toContain(r.code)
    expect(r.stdout).toContain('docs')
    expect(d.cluster.indices.has('docs__g1')).toBe(false)
  })

  it('applies: the concrete index becomes alias docs over a new generation with 100-d vectors and _meta', async () => {
    const r = await cli(['apply', '--auto-approve'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(d.cluster.indices.has('docs')).toBe(false)
    const [live, isWrite] = [...(d.cluster.aliases.get('docs') ?? new Map<string, boolean>())][0] ?? []
    expect(isWrite).toBe(true)
    const idx = d.cluster.index(live as string)
    expect(idx.docs.size).toBe(40)
    expect((idx.docs.get('7')?.source.embedding as number[]).length).toBe(100)
    expect(idx.mappings._meta).toMatchObject({ embedform: { profile: 'starter', dimensions: 100, model: 'builtin:starter' } })
    // The bulk-load settings are undone: the original index used the default refresh interval, and so does its successor.
    expect(idx.settings.refresh_interval).toBeUndefined()
  })

  it('searches through the CLI', async () => {
    const r = await cli(['search', 'linux kernel', '-k', '3', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { hits: { text: string }[] }
    expect(out.hits[0]!.text).toContain('linux kernel')
  })

  it('migrates to a new profile, rolls back to the retained generation, and gc drops it', async () => {
    const before = [...(d.cluster.aliases.get('docs') ?? new Map()).keys()][0] as string
    writeConfig('passage')
    const apply = await cli(['apply', '--auto-approve'])
    expect(apply.code, apply.stderr + apply.stdout).toBe(0)
    const after = [...(d.cluster.aliases.get('docs') ?? new Map()).keys()][0] as string
    expect(after).not.toBe(before)
    expect(d.cluster.index(after).mappings._meta).toMatchObject({ embedform: { profile: 'passage' } })

    const rollback = await cli(['rollback', '--auto-approve'])
    expect(rollback.code, rollback.stderr + rollback.stdout).toBe(0)
    expect([...(d.cluster.aliases.get('docs') ?? new Map()).keys()]).toEqual([before])

    const gc = await cli(['gc', '--keep', '0', '--auto-approve', '--json'])
    expect(gc.code, gc.stderr + gc.stdout).toBe(0)
    expect(d.cluster.indices.has(after)).toBe(false)
    expect(d.cluster.indices.has(before)).toBe(true)
  })
})
