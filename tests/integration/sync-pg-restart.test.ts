/**
 * Issue #13's store restart under `sync --watch` on native PostgreSQL, through the built CLI: the
 * watcher reaches PostgreSQL through a TCP proxy, and the proxy is stopped for several seconds
 * (every connection cut, new ones refused, as from a stopped server) while the application keeps
 * writing straight to PostgreSQL. The watcher must report itself disconnected, retry with a
 * growing backoff, reconnect once the proxy is back, sweep, and leave every row with the vector
 * of its current text (checked against a fresh encode). The cut lands wherever the watcher is,
 * a write transaction included, and must never crash it. sync-pg.test.ts covers the other kind of
 * restart: connections killed on a server that stays up (pg_terminate_backend).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { mismatchedWithProfile, seedDocs, spamPassages, type StoredRow } from '../helpers/spam-corpus.js'
import { startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy.js'

const ROWS = 600
const OUTAGE_MS = 5000
let db: TestDatabase
let proxy: TcpProxy
let dir: string
const passages = spamPassages(ROWS + 1000)

/** Rows whose live vector is not the starter encode of their current text. */
async function wrongRows(): Promise<string[]> {
  const rows = await db.sql<StoredRow>(`SELECT id, title, body, embedding::text AS v FROM docs ORDER BY id`)
  return mismatchedWithProfile(rows, dir, 'starter')
}

/** The application, straight to PostgreSQL (not through the proxy): inserts and edits, text only. */
function startWriter(pauseMs: number) {
  const client = new pg.Client({ connectionString: db.url })
  const stats = { writes: 0 }
  let running = true
  let n = ROWS
  const done = (async () => {
    await client.connect()
    while (running) {
      const p = passages[n++ % passages.length]!
      await client.query('INSERT INTO docs (id, title, body) VALUES ($1, $2, $3)', [3_000_000 + n, p.title, p.body])
      await client.query(`UPDATE docs SET body = $2 WHERE id = $1`, [1 + ((n * 37) % ROWS), `${p.body} (edit ${n})`])
      stats.writes += 2
      await new Promise((r) => setTimeout(r, pauseMs))
    }
    await client.end()
  })()
  return { stats, stop: async () => ((running = false), done) }
}

beforeAll(async () => {
  db = await createTestDatabase()
  await seedDocs(db.pool, spamPassages(ROWS))
  const u = new URL(db.url)
  proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) })
  dir = mkdtempSync(join(tmpdir(), 'embedform-sync-restart-'))
  writeProject(dir, { kind: 'pgvector', url: viaProxy(db.url, proxy) }, 'starter')
  const first = await runCli(['apply', '--auto-approve', '--json'], { cwd: dir, timeoutMs: 180_000 })
  expect(first.code, first.stderr + first.stdout).toBe(0)
})

afterAll(async () => {
  await proxy?.close()
  await db?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('sync --watch across a PostgreSQL restart (TCP proxy)', () => {
  it('reports disconnected, retries with growing backoff, reconnects, sweeps, and leaves every row fresh', async () => {
    // A sweep only every minute: what the outage left behind is caught by the sweep on reconnect.
    const watcher = spawnCli(['sync', 'docs', '--watch', '--json', '--sweep-ms', '60000'], { cwd: dir, timeoutMs: 180_000 })
    const writer = startWriter(20)
    try {
      await watcher.waitFor((l) => (l.includes('"watching"') ? true : undefined), 60_000)
      await new Promise((r) => setTimeout(r, 1000))
      const writesBefore = writer.stats.writes

      await proxy.stop()
      await watcher.waitFor((l) => (l.includes('"disconnected"') ? true : undefined), 30_000)
      await new Promise((r) => setTimeout(r, OUTAGE_MS))
      const acceptedDuringOutage = proxy.accepted
      await proxy.start()
      await watcher.waitFor((l) => (jsonLines(watcher.stdout).filter((x) => x.type === 'watching').length >= 2 ? true : undefined), 60_000)
      await writer.stop()
      expect(writer.stats.writes - writesBefore).toBeGreaterThan(50)

      const lines = jsonLines(watcher.stdout)
      const firstDown = lines.findIndex((l) => l.type === 'disconnected')
      const back = lines.findIndex((l, i) => i > firstDown && l.type === 'watching')
      const outage = lines.slice(firstDown, back)
      const down = outage.filter((l) => l.type === 'disconnected')
      // Several attempts while the proxy refused connections, each waiting longer than the last.
      expect(down.length).toBeGreaterThanOrEqual(3)
      const waits = down.map((l) => l.retryInMs as number)
      expect(waits.slice(1).every((w, i) => w > waits[i]!), `waits: ${waits.join(', ')}`).toBe(true)
      expect(proxy.accepted).toBeGreaterThan(acceptedDuringOutage)
      // The reconnect starts with a sweep, which embeds what was written while the watcher was away.
      const sweep = outage.slice(outage.lastIndexOf(down[down.length - 1]!)).filter((l) => l.type === 'sync-pass' && l.reason === 'start')
      expect(sweep.reduce((n, l) => n + (l.embedded as number), 0)).toBeGreaterThan(0)

      // Writes after the reconnect wake it through NOTIFY on its new LISTEN connection.
      const deadline = Date.now() + 30_000
      let wrong = await wrongRows()
      while (wrong.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300))
        wrong = await wrongRows()
      }
      expect(wrong).toEqual([])
      const notified = () => jsonLines(watcher.stdout).filter((l) => l.type === 'sync-pass' && l.reason === 'notify' && (l.embedded as number) > 0).length
      const before = notified()
      await db.sql(`UPDATE docs SET body = 'written after the store came back' WHERE id = 7`)
      await watcher.waitFor(() => (notified() > before ? true : undefined), 30_000)
      expect(await wrongRows()).toEqual([])
    } finally {
      await writer.stop()
      watcher.child.kill('SIGTERM')
    }
    const end = await watcher.done
    expect(end.code, end.stderr).toBe(0)
    expect(jsonLines(end.stdout).find((l) => l.type === 'result')).toMatchObject({ ok: true, collection: 'docs' })
  })
})
