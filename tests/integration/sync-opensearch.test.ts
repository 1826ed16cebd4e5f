/**
 * Issue #13 on the OpenSearch HTTP double, through the built CLI: after the cutover the
 * application edits and inserts documents through the alias (text only, stamped with updated_at);
 * `sync` gives each the vector of its current text, and `sync --watch` (which polls updated_at on
 * this store) does the same for documents written while it runs, then stops on SIGTERM.
 * Run `npm run build` first.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, runCli, spawnCli } from '../helpers/cli.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'
import { createApplicationIndex, writeOpenSearchProject, wrongLiveDocs } from '../helpers/opensearch-project.js'
import { spamPassages } from '../helpers/spam-corpus.js'

const SEEDED = 300

describe('sync on the OpenSearch double (built CLI)', () => {
  let d: OpenSearchDouble
  let dir: string
  const passages = spamPassages(SEEDED + 100)
  let edits = 0

  const send = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${d.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  }
  /** The application: edits `n` documents and inserts `n` new ones, text only. */
  const write = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const id = 1 + ((edits * 41) % SEEDED)
      await send('POST', `/docs/_update/${id}`, { doc: { body: `edited ${edits} ${passages[id]!.body}`, updated_at: Date.now() } })
      const p = passages[SEEDED + (edits % 100)]!
      await send('PUT', `/docs/_doc/${p.seq}`, { id: p.seq, title: p.title, body: `${p.body} v${edits}`, updated_at: Date.now() })
      edits++
    }
    await send('POST', '/docs/_refresh', {})
  }

  /** Ids of live documents whose vector is not the starter encode of their current text. */
  const wrongDocs = () => wrongLiveDocs(d, dir)

  beforeAll(async () => {
    d = await startOpenSearchDouble()
    dir = mkdtempSync(join(tmpdir(), 'embedform-os-sync-'))
    writeOpenSearchProject(dir, d.url)
    createApplicationIndex(d, '1s')
    for (const p of passages.slice(0, SEEDED)) d.cluster.write({ op: 'index', index: 'docs', id: String(p.seq), source: { id: p.seq, title: p.title, body: p.body, updated_at: Date.now() } })
    d.cluster.refresh('docs')
    const apply = await runCli(['apply', '--auto-approve', '--json'], { cwd: dir, timeoutMs: 300_000 })
    expect(apply.code, apply.stderr + apply.stdout).toBe(0)
  })
  afterAll(async () => {
    await d?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('sync embeds the documents edited and inserted after the cutover', async () => {
    await write(25)
    expect((await wrongDocs()).length).toBe(50)
    const run = await runCli(['sync', '--json', '--detailed-exitcode'], { cwd: dir, timeoutMs: 120_000 })
    expect(run.code, run.stderr + run.stdout).toBe(3)
    const result = jsonLines(run.stdout).find((l) => l.type === 'result') as Record<string, any>
    expect(result.generations[0].embedded).toBe(50)
    expect(await wrongDocs()).toEqual([])
  })

  it('sync --watch polls updated_at and embeds what the application writes while it runs', async () => {
    const watcher = spawnCli(['sync', '--watch', '--json', '--poll-ms', '200'], { cwd: dir, timeoutMs: 120_000 })
    try {
      await watcher.waitFor((l) => (l.includes('"watching"') ? true : undefined), 60_000)
      expect(jsonLines(watcher.stdout).find((l) => l.type === 'watching')).toMatchObject({ pushed: false })
      await write(10)
      const deadline = Date.now() + 30_000
      let wrong = await wrongDocs()
      while (wrong.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300))
        wrong = await wrongDocs()
      }
      expect(wrong).toEqual([])
    } finally {
      watcher.child.kill('SIGTERM')
    }
    const end = await watcher.done
    expect(end.code, end.stderr).toBe(0)
    expect(jsonLines(end.stdout).find((l) => l.type === 'result')).toMatchObject({ ok: true, embedded: 20 })
  })
})
