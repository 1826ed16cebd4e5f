/**
 * `embedform serve` through the built CLI on native PostgreSQL + pgvector, called with the openai
 * client: it answers what `embedform encode` makes, follows a real migration (`embedform apply`)
 * and a rollback while clients keep sending requests — no request fails, and the responses switch
 * generation and fingerprint — and finishes requests in flight on SIGTERM.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { type ClientRequest, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { fingerprint } from '../../src/core/fingerprint.js'
import type { Profile } from '../../src/core/types.js'
import { openEncoder } from '../../src/encoder/index.js'
import { jsonLines, type RunningCli, runCli, spawnCli, writeProject } from '../helpers/cli.js'
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js'
import { seedDocs, spamPassages } from '../helpers/spam-corpus.js'

const ROWS = 400
const TEXTS = ['cheap mortgage rates', 'the linux kernel scheduler', 'free vacation offer', 'meeting notes']

let db: TestDatabase
let dir: string
let server: RunningCli | undefined

const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 })

async function profiles(): Promise<Record<string, Profile>> {
  return (await loadConfig({ configPath: join(dir, 'embedding.config.yaml') })).profiles
}

async function encodeWith(p: Profile, texts: string[]): Promise<number[][]> {
  const e = await openEncoder(p)
  try {
    return (await e.encode(texts, 'document')).map((v) => Array.from(v))
  } finally {
    await e.close()
  }
}

function startServer(args: string[] = []): { cli: RunningCli; url: Promise<string> } {
  const running = spawnCli(['serve', '--port', '0', '--poll-interval', '0.2', '--json', ...args], { cwd: dir, timeoutMs: 600_000 })
  server = running
  const url = running.waitFor((line) => {
    const e = jsonLines(line)[0]
    return e?.type === 'listening' ? (e.url as string) : undefined
  }, 60_000)
  return { cli: running, url }
}

interface Answer {
  client: number
  generation: string | null
  fingerprint: string | null
  text: string
  vector: number[]
}

/** Clients sending single texts back to back until stopped; every failure is kept. */
function stream(url: string, clients: number) {
  const answers: Answer[] = []
  const failures: string[] = []
  let running = true
  const done = Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 })
      for (let i = 0; running; i++) {
        const text = TEXTS[(c + i) % TEXTS.length] as string
        try {
          const { data, response } = await client.embeddings.create({ model: 'docs', input: text }).withResponse()
          answers.push({ client: c, text, generation: response.headers.get('x-embedform-generation'), fingerprint: response.headers.get('x-embedform-fingerprint'), vector: data.data[0]!.embedding })
        } catch (e) {
          failures.push((e as Error).message)
        }
      }
    }),
  )
  return { answers, failures, stop: async () => ((running = false), done) }
}

/** Each client saw `from` and then only `to` once `to` appeared: a switch, never a flip-flop. */
function expectSwitched(answers: Answer[], from: string, to: string): void {
  const byClient = new Map<number, string[]>()
  for (const a of answers) byClient.set(a.client, [...(byClient.get(a.client) ?? []), a.generation ?? 'none'])
  expect(answers.some((a) => a.generation === from)).toBe(true)
  for (const seq of byClient.values()) {
    const firstNew = seq.indexOf(to)
    expect(firstNew).toBeGreaterThanOrEqual(0)
    expect(seq.slice(firstNew).every((g) => g === to)).toBe(true)
    expect(seq.slice(0, firstNew).every((g) => g === from)).toBe(true)
  }
}

/** Every answer's vector is the one its announced fingerprint's profile makes. */
async function expectVectorsMatchFingerprints(answers: Answer[]): Promise<void> {
  const byFingerprint = new Map(Object.values(await profiles()).map((p) => [fingerprint(p), p]))
  const expected = new Map<string, number[][]>()
  for (const fp of new Set(answers.map((a) => a.fingerprint))) {
    const p = byFingerprint.get(fp ?? '')
    expect(p, `fingerprint ${fp} belongs to no profile`).toBeDefined()
    expected.set(fp as string, await encodeWith(p as Profile, TEXTS))
  }
  for (const a of answers) {
    const want = expected.get(a.fingerprint as string)![TEXTS.indexOf(a.text)]!
    a.vector.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 6))
  }
}

beforeAll(async () => {
  db = await createTestDatabase()
  await seedDocs(db.pool, spamPassages(ROWS))
  dir = mkdtempSync(join(tmpdir(), 'embedform-serve-e2e-'))
  writeProject(dir, { kind: 'pgvector', url: db.url }, 'starter')
  const r = await cli(['apply', '--auto-approve'])
  expect(r.code, r.stderr).toBe(0)
})

afterAll(async () => {
  server?.child.kill('SIGKILL')
  await db?.drop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('embedform serve (built CLI, native PostgreSQL)', () => {
  let url: string

  it('answers with exactly the vectors `embedform encode` writes', async () => {
    url = await startServer().url
    writeFileSync(join(dir, 'texts.jsonl'), TEXTS.map((text, id) => JSON.stringify({ id, text })).join('\n') + '\n')
    const encoded = await cli(['encode', '--profile', 'starter', '--input', 'texts.jsonl', '--output', 'vectors.jsonl'])
    expect(encoded.code, encoded.stderr).toBe(0)
    const expected = readFileSync(join(dir, 'vectors.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { vector: number[] }).vector)
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 })
    const got = await client.embeddings.create({ model: 'docs', input: TEXTS })
    got.data.forEach((d, i) => d.embedding.forEach((x, j) => expect(x).toBeCloseTo(expected[i]![j]!, 6)))
  })

  it('follows a migration made by `embedform apply` while clients keep sending: 0 failed requests, responses switch to g2', async () => {
    const s = stream(url, 8)
    await expect.poll(() => s.answers.length, { timeout: 30_000 }).toBeGreaterThan(50)
    writeProject(dir, { kind: 'pgvector', url: db.url }, 'passage')
    const apply = await cli(['apply', '--auto-approve'])
    expect(apply.code, apply.stderr).toBe(0)
    await expect.poll(() => s.answers.filter((a) => a.generation === 'g2').length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(50)
    await s.stop()
    expect(s.failures).toEqual([])
    expectSwitched(s.answers, 'g1', 'g2')
    const p = await profiles()
    expect(new Set(s.answers.map((a) => a.fingerprint))).toEqual(new Set([fingerprint(p.starter!), fingerprint(p.passage!)]))
    await expectVectorsMatchFingerprints(s.answers)
    const switched = jsonLines(server!.stdout).find((e) => e.type === 'switch' && (e.to as { generation: number }).generation === 2)
    expect(switched).toMatchObject({ collection: 'docs', from: { generation: 1, profile: 'starter' }, to: { generation: 2, profile: 'passage' } })
    // The old model drained and closed: only the new one stays loaded.
    const health = (await (await fetch(`${url}/health`)).json()) as { models: { fingerprint: string }[] }
    expect(health.models.map((m) => m.fingerprint)).toEqual([fingerprint(p.passage!)])
  })

  it('follows `embedform rollback` the same way: back to g1 without a restart or a failed request', async () => {
    const s = stream(url, 8)
    await expect.poll(() => s.answers.length, { timeout: 30_000 }).toBeGreaterThan(50)
    const rollback = await cli(['rollback', '--auto-approve'])
    expect(rollback.code, rollback.stderr).toBe(0)
    await expect.poll(() => s.answers.filter((a) => a.generation === 'g1').length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(50)
    await s.stop()
    expect(s.failures).toEqual([])
    expectSwitched(s.answers, 'g2', 'g1')
    await expectVectorsMatchFingerprints(s.answers)
  })

  it('on SIGTERM finishes the requests in flight, then exits 0', async () => {
    // A request whose body is still arriving when SIGTERM comes: in flight by any definition.
    const body = JSON.stringify({ model: 'docs', input: TEXTS })
    const { hostname, port } = new URL(url)
    let inFlightRequest: ClientRequest | undefined
    const rest = body.slice(10)
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: hostname, port, path: '/v1/embeddings', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (c: string) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      })
      req.on('error', reject)
      req.write(body.slice(0, 10))
      inFlightRequest = req
    })
    await expect.poll(async () => ((await (await fetch(`${url}/health`)).json()) as { inFlight: number }).inFlight, { interval: 20 }).toBe(1)
    server!.child.kill('SIGTERM')
    await server!.waitFor((line) => (jsonLines(line)[0]?.type === 'stopping' ? true : undefined), 10_000)
    // New connections are refused now; the one in flight is still served.
    await expect(fetch(`${url}/health`)).rejects.toThrow()
    expect(server!.child.exitCode).toBeNull()
    inFlightRequest!.end(rest)
    const answered = await answer
    expect(answered.status).toBe(200)
    expect((JSON.parse(answered.body) as { data: unknown[] }).data).toHaveLength(TEXTS.length)
    const exit = await server!.done
    expect(exit.code, exit.stderr).toBe(0)
    expect(jsonLines(exit.stdout).map((e) => e.type)).toEqual(expect.arrayContaining(['stopping', 'stopped']))
  })
})
