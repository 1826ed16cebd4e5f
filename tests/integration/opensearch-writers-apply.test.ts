/**
 * Issue #10's scenario, through the built CLI against the HTTP double: an application keeps
 * inserting and editing documents through the alias (1 s refresh interval, retrying writes
 * refused with cluster_block_exception, as docs/opensearch.md asks) during the whole of
 * `embedform apply`, first over a concrete index, then for a profile change. Afterwards every
 * document acknowledged is in the new live index with its last text, and every one whose last
 * write was acknowledged before the switch holds the vector a fresh encode of that text gives.
 * Run `npm run build` first.
 */
import { mkdtempSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { openEncoder } from '../../src/encoder/index.js'
import { jsonLines, spawnCli } from '../helpers/cli.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'
import { createApplicationIndex, writeOpenSearchProject } from '../helpers/opensearch-project.js'
import { passageText, spamPassages } from '../helpers/spam-corpus.js'

const SEEDED = 400
const INSERTABLE = 400


interface Acked {
  title: string
  body: string
  /** Index the last acknowledged write landed in. */
  index: string
}

/** A deterministic stream of numbers in [0, 1). */
function prng(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31
    return s / 2 ** 31
  }
}

/**
 * The application: inserts and partial edits through the alias, each stamped with updated_at,
 * each retried while the index is write-blocked.
 */
function startWriter(node: string, known: Map<number, Acked>, seed: number) {
  const passages = spamPassages(SEEDED + INSERTABLE)
  const random = prng(seed)
  const stats = { writes: 0, blockedRetries: 0 }
  let running = true
  let nextInsert = SEEDED + [...known.keys()].filter((id) => id > SEEDED).length
  const send = async (method: string, path: string, body: unknown) => {
    for (;;) {
      const res = await fetch(`${node}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const out = (await res.json()) as Record<string, any>
      if (res.status === 403 && out.error?.type === 'cluster_block_exception') {
        stats.blockedRetries++
        await new Promise((r) => setTimeout(r, 10))
        continue
      }
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(out)}`)
      return out
    }
  }
  const done = (async () => {
    while (running) {
      if (random() < 0.35 && nextInsert < SEEDED + INSERTABLE) {
        const p = passages[nextInsert++]!
        const res = await send('PUT', `/docs/_doc/${p.seq}`, { id: p.seq, title: p.title, body: p.body, updated_at: Date.now() })
        known.set(p.seq, { title: p.title, body: p.body, index: String(res._index) })
      } else {
        const ids = [...known.keys()]
        const id = ids[Math.floor(random() * ids.length)]!
        const before = known.get(id)!
        const body = `${before.body} edited ${stats.writes}`
        const res = await send('POST', `/docs/_update/${id}`, { doc: { body, updated_at: Date.now() } })
        known.set(id, { ...before, body, index: String(res._index) })
      }
      stats.writes++
      await new Promise((r) => setTimeout(r, 4))
    }
  })()
  return { stats, stop: async () => ((running = false), done) }
}

describe('writers through the whole apply (HTTP double, 1 s refresh, built CLI)', () => {
  let d: OpenSearchDouble
  let dir: string
  const known = new Map<number, Acked>()
  const writeConfig = (profile: string) => writeOpenSearchProject(dir, d.url, profile)

  beforeAll(async () => {
    d = await startOpenSearchDouble()
    dir = mkdtempSync(join(tmpdir(), 'embedform-os-writers-'))
    writeOpenSearchProject(dir, d.url)
    createApplicationIndex(d, '1s')
    for (const p of spamPassages(SEEDED)) {
      d.cluster.write({ op: 'index', index: 'docs', id: String(p.seq), source: { id: p.seq, title: p.title, body: p.body, updated_at: Date.now() } })
      known.set(p.seq, { title: p.title, body: p.body, index: 'docs' })
    }
    d.cluster.refresh('docs')
  })
  afterAll(async () => {
    await d?.close()
  })

  async function applyWithWriter(profile: string, seed: number) {
    writeConfig(profile)
    const writer = startWriter(d.url, known, seed)
    const run = spawnCli(['apply', '--auto-approve', '--json'], { cwd: dir, timeoutMs: 600_000 })
    const res = await run.done
    await writer.stop()
    expect(res.code, res.stderr + res.stdout).toBe(0)
    const live = [...(d.cluster.aliases.get('docs') ?? new Map<string, boolean>()).keys()]
    expect(live).toHaveLength(1)
    const index = d.cluster.index(live[0]!)
    // Nothing acknowledged is lost: every document is in the new live index with its last text.
    const lost = [...known].filter(([id, a]) => {
      const doc = index.docs.get(String(id))
      return !doc || doc.source.body !== a.body || doc.source.title !== a.title
    })
    expect(lost.map(([id]) => id)).toEqual([])
    // Written before the switch (to the old index): embedded from the final text. After it: sync's job.
    const before = [...known].filter(([, a]) => a.index !== index.name)
    const cfg = await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })
    const encoder = await openEncoder(cfg.profiles[profile]!)
    const wrong: string[] = []
    try {
      for (let i = 0; i < before.length; i += 256) {
        const slice = before.slice(i, i + 256)
        const want = await encoder.encode(
          slice.map(([, a]) => passageText(a)),
          'document',
        )
        slice.forEach(([id], j) => {
          const got = index.docs.get(String(id))?.source.embedding as number[] | undefined
          if (!got) return void wrong.push(`${id}: no vector`)
          const diff = Math.max(...Array.from(want[j]!, (x, k) => Math.abs(x - (got[k] ?? Number.NaN))))
          if (!(diff <= 1e-4)) wrong.push(`${id}: differs by ${diff}`)
        })
      }
    } finally {
      await encoder.close()
    }
    expect(wrong).toEqual([])
    const lines = jsonLines(res.stdout)
    const result = lines.find((l) => l.type === 'result')
    const hold = lines.filter((l) => l.type === 'log' && /writes held/.test(String(l.message))).map((l) => l.message)
    console.log(
      JSON.stringify({
        profile,
        documents: known.size,
        writesDuringApply: writer.stats.writes,
        writesRefusedByTheHold: writer.stats.blockedRetries,
        checkedFresh: before.length,
        writtenAfterTheSwitch: known.size - before.length,
        hold,
        collections: result?.collections,
        loadavg: loadavg().map((x) => Number(x.toFixed(2))),
      }),
    )
    expect(writer.stats.writes).toBeGreaterThan(20)
  }

  it('first apply over a concrete index: nothing acknowledged lost, everything written before the switch embedded from its final text', async () => {
    await applyWithWriter('starter', 7)
  })

  it('a profile change: the same, from one alias generation to the next', async () => {
    await applyWithWriter('passage', 11)
  })
})
