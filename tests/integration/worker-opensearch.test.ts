/**
 * Issue #13's workers on the OpenSearch HTTP double, through the built CLI: an apply started with
 * --workers shares its backfill with two `embedform worker` processes through the slices of a
 * sliced point-in-time search, leased as documents in `.embedform` with conditional writes. One
 * worker is SIGKILLed while it holds a slice; its slice is taken over once the lease expires, the
 * apply completes, and every document of the new live index holds the vector of its current
 * text. The double answers each _bulk late (a loaded cluster) so that the kill lands mid-slice.
 * Run `npm run build` first.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, spawnCli } from '../helpers/cli.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'
import { createApplicationIndex, writeOpenSearchProject, wrongLiveDocs } from '../helpers/opensearch-project.js'
import { spamPassages } from '../helpers/spam-corpus.js'

const DOCS = 1200

interface SliceDoc {
  kind: string
  slice: number
  holder: string | null
  done: boolean
}

describe('workers sharing a backfill (OpenSearch double, sliced point-in-time)', () => {
  let d: OpenSearchDouble
  let dir: string

  /** The slice leases as the cluster holds them. */
  const sliceDocs = (): SliceDoc[] => [...d.cluster.index('.embedform').docs.values()].map((x) => x.source as unknown as SliceDoc).filter((x) => x.kind === 'slice')

  /** Ids of live documents whose vector is not the starter encode of their current text. */
  const wrongDocs = () => wrongLiveDocs(d, dir)

  beforeAll(async () => {
    d = await startOpenSearchDouble()
    dir = mkdtempSync(join(tmpdir(), 'embedform-worker-os-'))
    writeOpenSearchProject(dir, d.url)
    createApplicationIndex(d, '1s')
    for (const p of spamPassages(DOCS)) d.cluster.write({ op: 'index', index: 'docs', id: String(p.seq), source: { id: p.seq, title: p.title, body: p.body, updated_at: Date.now() } })
    d.cluster.refresh('docs')
  })
  afterAll(async () => {
    await d?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('3 workers, one SIGKILLed mid-slice: every document embedded, none lost, the new live index verified', async () => {
    d.faults.bulkDelayMs = 60
    // Every vector written into the new generation, per document: the slices must split the work.
    const writes = new Map<string, number>()
    const write = d.cluster.write.bind(d.cluster)
    d.cluster.write = (a) => {
      const r = write(a)
      if (a.index.startsWith('docs__g') && a.source?.embedding && r.status < 300) writes.set(a.id, (writes.get(a.id) ?? 0) + 1)
      return r
    }
    const common = ['--lease-ms', '1500', '--batch-size', '50', '--json']
    const workers = [spawnCli(['worker', 'docs', ...common], { cwd: dir, timeoutMs: 240_000 }), spawnCli(['worker', 'docs', ...common], { cwd: dir, timeoutMs: 240_000 })]
    const apply = spawnCli(['apply', '--auto-approve', '--workers', '1', '--range-rows', '150', ...common], { cwd: dir, timeoutMs: 240_000 })
    const victim = workers[0]!
    // Killed right after its second claim: mid-slice, as each slice takes several (delayed) bulk writes.
    const first = await victim.waitFor((l) => (l.includes('"claimed"') ? (JSON.parse(l) as { range: { id: number } }).range.id : undefined), 120_000)
    const orphan = await victim.waitFor((l) => {
      if (!l.includes('"claimed"')) return undefined
      const id = (JSON.parse(l) as { range: { id: number } }).range.id
      return id === first ? undefined : id
    }, 120_000)
    victim.child.kill('SIGKILL')
    const held = sliceDocs().filter((s) => s.holder?.includes(`pid ${victim.child.pid} `) && !s.done)
    expect(held.map((s) => s.slice)).toEqual([orphan])

    const res = await apply.done
    expect(res.code, res.stderr + res.stdout).toBe(0)
    const survivor = await workers[1]!.done
    expect(survivor.code, survivor.stderr + survivor.stdout).toBe(0)

    const slices = sliceDocs()
    expect(slices.length).toBe(8)
    expect(slices.every((s) => s.done)).toBe(true)
    // The dead worker's slice was finished by another holder after its lease expired.
    const taken = slices.find((s) => s.slice === orphan)!
    expect(taken.holder).not.toContain(`pid ${victim.child.pid} `)
    // The backfill really was shared between the three processes.
    expect(new Set(slices.map((s) => s.holder)).size).toBe(3)

    // Each document was embedded once, but for the batch the dead worker had in flight.
    expect(writes.size).toBe(DOCS)
    expect([...writes.values()].reduce((a, b) => a + b, 0) - DOCS).toBeLessThanOrEqual(50)

    const live = [...(d.cluster.aliases.get('docs') ?? new Map<string, boolean>()).keys()]
    expect(live).toHaveLength(1)
    expect(live[0]).not.toBe('docs')
    expect(d.cluster.index(live[0]!).docs.size).toBe(DOCS)
    expect(await wrongDocs()).toEqual([])
    expect(jsonLines(survivor.stdout).find((l) => l.type === 'result')).toMatchObject({ ok: true })
  })
})
