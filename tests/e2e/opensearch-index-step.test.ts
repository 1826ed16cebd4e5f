/**
 * Issue #12's bug, through the built CLI against the OpenSearch double: a profile that says
 * `index.pgvector.type: none` (a pgvector setting) once removed OpenSearch's build-index step, and
 * with it the restore of refresh_interval and replicas, leaving the live index unrefreshed with no
 * replicas. The index step is the store's decision now.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'

const PROFILE = `name: starter
model: { source: "builtin:starter" }
dimensions: 100
device: cpu
index:
  pgvector: { type: none }
  opensearch: { engine: faiss, m: 16, ef_construction: 64 }
`

describe('OpenSearch apply with index.pgvector.type: none', () => {
  let d: OpenSearchDouble
  let dir: string
  const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })

  beforeAll(async () => {
    d = await startOpenSearchDouble()
    dir = mkdtempSync(join(tmpdir(), 'embedform-os-index-step-'))
    mkdirSync(join(dir, 'profiles'))
    writeFileSync(join(dir, 'profiles', 'starter.yaml'), PROFILE)
    writeFileSync(
      join(dir, 'embedding.config.yaml'),
      `version: 1\nstores:\n  search:\n    kind: opensearch\n    node: "${d.url}"\ncollections:\n  docs:\n    store: search\n    alias: docs\n    key: id\n    text: body\n    vector: embedding\n    updated_at: updated_at\n    profile: starter\n`,
    )
    d.cluster.createIndex('docs', {
      settings: { index: { number_of_replicas: 1 } },
      mappings: { properties: { id: { type: 'long' }, body: { type: 'text' }, updated_at: { type: 'date', format: 'epoch_millis' } } },
    })
    for (let i = 1; i <= 12; i++) d.cluster.write({ op: 'index', index: 'docs', id: String(i), source: { id: i, body: `note ${i} about topic ${i % 4}`, updated_at: 1_700_000_000_000 + i } })
  })
  afterAll(async () => {
    await d?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('plans the build-index step and leaves the live index refreshed with its replicas', async () => {
    const plan = await cli(['plan', '--json', '--no-measure'])
    expect(plan.code, plan.stderr).toBe(0)
    expect(JSON.parse(plan.stdout).collections[0].steps.map((s: { kind: string }) => s.kind)).toContain('build-index')
    const apply = await cli(['apply', '--auto-approve'])
    expect(apply.code, apply.stderr + apply.stdout).toBe(0)
    const [live] = [...(d.cluster.aliases.get('docs') ?? new Map<string, boolean>()).keys()]
    const settings = d.cluster.index(live as string).settings
    // Restored as the source index had it (unset: the cluster's default), never left at -1.
    expect(settings.refresh_interval).not.toBe('-1')
    expect(settings.number_of_replicas).toBe('1')
  })
})
