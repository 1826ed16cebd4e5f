/**
 * The adapter conformance suite: the same scenarios against every StoreAdapter. A store plugin
 * runs it by calling conformanceSuite() from a vitest file with a harness factory; every
 * contract method is exercised, and a test double must pass it as the real stores do.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EmbedformError } from '../core/errors.js'
import type { Collection, IndexSettings } from '../core/types.js'
import type { CutoverOptions, GenerationSpec, Journal, PendingRow, RowKey, StoreAdapter, VectorRow } from '../store/adapter.js'
import { fakeVector } from './fake-vectors.js'
import { baseIndex, testSpec } from './spec.js'

export interface SeedRow {
  key: string | number
  text: string
}

export interface Harness {
  adapter: StoreAdapter
  /** A collection over an existing, empty table/index with a key and one text column/field. */
  collection: Collection
  seed(rows: SeedRow[]): Promise<void>
  updateText(key: string | number, text: string): Promise<void>
  insert(row: SeedRow): Promise<void>
  remove(key: string | number): Promise<void>
  /**
   * Optional: seed rows that already carry vectors in `collection.vector`, written by the
   * application, not by embedform (the adoption scenario). Skipped when absent.
   */
  seedAdopted?(rows: (SeedRow & { vector: Float32Array })[], dimensions: number): Promise<void>
  /** Index settings with the store's own section; `rebuilt` differs in that section (index-only rebuild). */
  index?: HarnessIndex
  /**
   * Optional: everything the store holds for the collection, as one comparable string (rows,
   * vectors, metadata). The read-only scenarios compare it before and after; without it they
   * compare what inspect() and freshness() report.
   */
  snapshot?(): Promise<string>
  /** Optional: a second adapter over the same store, for the persistence and close() scenario. */
  reopen?(): Promise<StoreAdapter>
  cleanup(): Promise<void>
}

export interface HarnessIndex {
  settings: IndexSettings
  rebuilt?: IndexSettings
}

const DIMS = 16

/** Each generation embeds differently, so a search tells which generation answered. */
function vectorFor(generation: number, text: string): Float32Array {
  return fakeVector(`g${generation}|${text}`, DIMS)
}

function rows(n: number, prefix = 'doc'): SeedRow[] {
  return Array.from({ length: n }, (_, i) => ({ key: i + 1, text: `${prefix} ${i + 1} about topic ${(i * 7) % 13}` }))
}

/** The engine's side of a cutover: what is still pending is embedded with the target's own vectors. */
function embedFor(generation: number, maxHeldRows = 100): CutoverOptions {
  return {
    maxHeldRows,
    embed: async (pending: PendingRow[]): Promise<VectorRow[]> =>
      pending.map((r) => ({ key: r.key, vector: vectorFor(generation, r.text), ...(r.token === undefined ? {} : { token: r.token }) })),
  }
}

async function collect(it: AsyncIterable<PendingRow[]>): Promise<PendingRow[][]> {
  const pages: PendingRow[][] = []
  for await (const page of it) pages.push(page)
  return pages
}

const k = (key: RowKey) => String(key)
const sorted = (xs: string[]) => [...xs].sort()

async function expectCode(p: Promise<unknown>, code: string): Promise<EmbedformError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(EmbedformError)
  expect((err as EmbedformError).code).toBe(code)
  return err as EmbedformError
}

export function conformanceSuite(name: string, makeHarness: () => Promise<Harness>): void {
  describe(`store adapter conformance: ${name}`, () => {
    let h: Harness
    let a: StoreAdapter
    let c: Collection
    const spec = (id: number, index: IndexSettings = h.index?.settings ?? baseIndex): GenerationSpec => testSpec(id, DIMS, index)

    beforeEach(async () => {
      h = await makeHarness()
      a = h.adapter
      c = h.collection
    })
    afterEach(async () => {
      await h.cleanup()
    })

    async function backfill(generation: number, batchSize = 10): Promise<number> {
      let written = 0
      for await (const page of a.pending(c, generation, { batchSize, phase: 'backfill' })) {
        await a.write(
          c,
          generation,
          page.map((r) => ({ key: r.key, token: r.token, vector: vectorFor(generation, r.text) })),
        )
        written += page.length
      }
      return written
    }

    /** `seeded` rows in the store and generation 1 backfilled and live. */
    async function liveFirstGeneration(seeded: SeedRow[]): Promise<void> {
      await h.seed(seeded)
      await a.createGeneration(c, spec(1))
      await backfill(1)
      expect(await a.cutover(c, 1, embedFor(1))).toMatchObject({ status: 'done' })
    }

    it('inspects a collection without vectors as empty, and a missing target as not existing', async () => {
      await h.seed(rows(3))
      const s = await a.inspect(c)
      expect(s).toMatchObject({ exists: true, rows: 3, generations: [], live: null, lock: null, journal: null })
      expect(s.version).toBeTypeOf('string')
      const missing = await a.inspect({ ...c, target: `${c.target}_missing` })
      expect(missing).toMatchObject({ exists: false, generations: [], live: null })
      expect((await a.inspect(c)).version).toBe(s.version)
    })

    it('adopts an existing vector column as live generation 1', async (ctx) => {
      if (!h.seedAdopted) return ctx.skip()
      const seeded = rows(6)
      await h.seedAdopted(
        seeded.map((r) => ({ ...r, vector: vectorFor(1, r.text) })),
        DIMS,
      )
      const s = await a.inspect({ ...c, adoptedProfile: 'legacy' })
      expect(s.live).toBe(1)
      expect(s.generations).toHaveLength(1)
      expect(s.generations[0]).toMatchObject({ id: 1, status: 'live', profile: 'legacy', fingerprint: null, dimensions: DIMS, populated: 6 })
      const hits = await a.search(c, 1, { vector: vectorFor(1, seeded[2]!.text), k: 3 })
      expect(k(hits[0]!.key)).toBe('3')
      // A new generation next to the adopted one leaves the adopted one live.
      await a.createGeneration(c, spec(2))
      const after = await a.inspect(c)
      expect(after.live).toBe(1)
      expect(after.generations.map((g) => [g.id, g.status])).toEqual([
        [1, 'live'],
        [2, 'building'],
      ])
    })

    it('creates a generation idempotently', async () => {
      await h.seed(rows(4))
      await a.createGeneration(c, spec(1))
      const first = await a.inspect(c)
      await a.createGeneration(c, spec(1))
      const second = await a.inspect(c)
      expect(second.version).toBe(first.version)
      expect(second.live).toBeNull()
      expect(second.generations).toHaveLength(1)
      expect(second.generations[0]).toMatchObject({ id: 1, status: 'building', fingerprint: 'fp-test-g1', dimensions: DIMS, populated: 0 })
    })

    it('pages pending rows in key order, writes them, and re-writing is harmless', async () => {
      const seeded = rows(25)
      await h.seed(seeded)
      await a.createGeneration(c, spec(1))
      const pages = await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5])
      const all = pages.flat()
      // Key order is the store's own (numeric in SQL, lexicographic for keyword fields): compare as sets.
      expect(sorted(all.map((r) => k(r.key)))).toEqual(sorted(seeded.map((r) => k(r.key))))
      expect(sorted(all.map((r) => r.text))).toEqual(sorted(seeded.map((r) => r.text)))
      const vectors = all.map((r) => ({ key: r.key, token: r.token, vector: vectorFor(1, r.text) }))
      await a.write(c, 1, vectors)
      await a.write(c, 1, vectors)
      expect(await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))).toEqual([])
      const s = await a.inspect(c)
      expect(s.generations[0]!.populated).toBe(25)
    })

    it('resumes: after a partial write, pending returns only the rest, nothing twice', async () => {
      const seeded = rows(25)
      await h.seed(seeded)
      await a.createGeneration(c, spec(1))
      const firstPage: string[] = []
      for await (const page of a.pending(c, 1, { batchSize: 10, phase: 'backfill' })) {
        await a.write(c, 1, page.map((r) => ({ key: r.key, token: r.token, vector: vectorFor(1, r.text) })))
        firstPage.push(...page.map((r) => k(r.key)))
        break
      }
      expect(firstPage).toHaveLength(10)
      const rest = (await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))).flat()
      const expected = seeded.map((r) => k(r.key)).filter((key) => !firstPage.includes(key))
      expect(sorted(rest.map((r) => k(r.key)))).toEqual(sorted(expected))
      expect(await backfill(1)).toBe(15)
      expect(await backfill(1)).toBe(0)
    })

    it('keeps a row pending when its text changed between pending and write (token guard)', async () => {
      await h.seed(rows(5))
      await a.createGeneration(c, spec(1))
      const [page] = await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))
      await h.updateText(3, 'rewritten text for row three')
      await a.write(c, 1, page!.map((r) => ({ key: r.key, token: r.token, vector: vectorFor(1, r.text) })))
      const left = (await collect(a.pending(c, 1, { batchSize: 10, phase: 'catchup' }))).flat()
      expect(left.map((r) => [k(r.key), r.text])).toEqual([['3', 'rewritten text for row three']])
    })

    it('catch-up sees rows inserted and updated after the backfill', async () => {
      await h.seed(rows(8))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      await h.insert({ key: 100, text: 'a row written during the backfill' })
      await h.updateText(2, 'row two changed during the backfill')
      const left = (await collect(a.pending(c, 1, { batchSize: 10, phase: 'catchup' }))).flat()
      expect(left.map((r) => [k(r.key), r.text]).sort()).toEqual([
        ['100', 'a row written during the backfill'],
        ['2', 'row two changed during the backfill'],
      ])
      // The backfill phase only sees rows without a vector; the edited row is catch-up's.
      expect(await backfill(1)).toBe(1)
      await writeAll(1, await catchup(1))
      expect((await a.inspect(c)).generations[0]!.populated).toBe(9)
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 9, fresh: 9, stale: 0, missing: 0 })
    })

    it('verify reports missing rows', async () => {
      const seeded = rows(10)
      await h.seed(seeded)
      await a.createGeneration(c, spec(1))
      const [page] = await collect(a.pending(c, 1, { batchSize: 7, phase: 'backfill' }))
      await a.write(c, 1, page!.map((r) => ({ key: r.key, token: r.token, vector: vectorFor(1, r.text) })))
      await a.buildIndex(c, 1)
      const report = await a.verify(c, 1)
      expect(report).toMatchObject({ generation: 1, total: 10, populated: 7, missing: 3, wrongDimensions: 0, ok: false })
      expect(report.problems.join('\n')).toMatch(/3/)
    })

    it('builds the index and verifies a complete generation', async () => {
      await h.seed(rows(30))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      const progress: number[] = []
      await a.buildIndex(c, 1, (done) => progress.push(done))
      await a.buildIndex(c, 1)
      const report = await a.verify(c, 1)
      expect(report).toMatchObject({ total: 30, populated: 30, missing: 0, wrongDimensions: 0, indexValid: true, ok: true, problems: [] })
      expect(report.sample.checked).toBeGreaterThanOrEqual(5)
      expect(report.sample.selfFound).toBe(report.sample.checked)
      expect(report).toMatchObject({ stale: 0, untracked: 0, zeroVectors: 0 })
      const g = (await a.inspect(c)).generations[0]!
      expect(g.index).toMatchObject({ valid: true })
    })

    it('cuts over, then rolls back, each generation answering with its own vectors', async () => {
      const seeded = rows(20)
      await liveFirstGeneration(seeded)
      let s = await a.inspect(c)
      expect(s.live).toBe(1)

      await a.createGeneration(c, spec(2))
      await backfill(2)
      await a.buildIndex(c, 2)
      const before = s.version
      await a.cutover(c, 2, embedFor(2))
      s = await a.inspect(c)
      expect(s.version).not.toBe(before)
      expect(s.live).toBe(2)
      expect(s.generations.map((g) => [g.id, g.status])).toEqual([
        [1, 'retained'],
        [2, 'live'],
      ])
      expect(s.generations.find((g) => g.id === 2)!.populated).toBe(20)
      const target = seeded[11]!
      const viaG2 = await a.search(c, 2, { vector: vectorFor(2, target.text), k: 3 })
      expect(k(viaG2[0]!.key)).toBe('12')
      expect(viaG2[0]!.text).toBe(target.text)
      expect(viaG2[0]!.score).toBeGreaterThan(0.99)
      const viaG1 = await a.search(c, 1, { vector: vectorFor(1, target.text), k: 3 })
      expect(k(viaG1[0]!.key)).toBe('12')
      const crossed = await a.search(c, 2, { vector: vectorFor(1, target.text), k: 1 })
      expect(crossed[0]!.score).toBeLessThan(0.99)

      await a.cutover(c, 1, embedFor(1))
      s = await a.inspect(c)
      expect(s.live).toBe(1)
      expect(s.generations.map((g) => [g.id, g.status])).toEqual([
        [1, 'live'],
        [2, 'retained'],
      ])
      expect(s.generations.find((g) => g.id === 1)!.populated).toBe(20)
      expect(k((await a.search(c, 1, { vector: vectorFor(1, target.text), k: 1 }))[0]!.key)).toBe('12')
      expect(k((await a.search(c, 2, { vector: vectorFor(2, target.text), k: 1 }))[0]!.key)).toBe('12')
      await a.cutover(c, 1, embedFor(1))
      expect((await a.inspect(c)).live).toBe(1)
    })

    it('drops a retained generation and refuses to drop the live one', async () => {
      await liveFirstGeneration(rows(5))
      await a.createGeneration(c, spec(2))
      await backfill(2)
      await a.buildIndex(c, 2)
      await expectCode(a.dropGeneration(c, 1), 'E_GENERATION_LIVE')
      await a.dropGeneration(c, 2)
      await a.dropGeneration(c, 2)
      const s = await a.inspect(c)
      expect(s.generations.map((g) => g.id)).toEqual([1])
      expect(s.live).toBe(1)
      await a.createGeneration(c, spec(2))
      expect((await collect(a.pending(c, 2, { batchSize: 10, phase: 'backfill' }))).flat()).toHaveLength(5)
    })

    it('refuses a second lock with E_LOCK_HELD naming the holder, until released', async () => {
      await h.seed(rows(2))
      const release = await a.lock(c, 'apply run one')
      const err = await expectCode(a.lock(c, 'apply run two'), 'E_LOCK_HELD')
      expect(err.message).toContain('apply run one')
      expect(err.kind).toBe('failure')
      expect((await a.inspect(c)).lock).toMatchObject({ holder: 'apply run one', pid: process.pid })
      await release()
      expect((await a.inspect(c)).lock).toBeNull()
      const again = await a.lock(c, 'apply run two')
      await again()
    })

    it('round-trips the journal and deletes it with null', async () => {
      await h.seed(rows(1))
      const j: Journal = {
        planId: 'plan-1',
        collection: c.name,
        generation: 2,
        done: ['create', 'backfill'],
        current: 'catchup',
        startedAt: '2026-11-23T20:00:00.000Z',
        updatedAt: '2026-11-23T20:05:00.000Z',
        stats: { written: 42 },
      }
      expect(await a.readJournal(c)).toBeNull()
      await a.writeJournal(c, j)
      expect(await a.readJournal(c)).toEqual(j)
      await a.writeJournal(c, { ...j, done: [...j.done, 'catchup'] })
      expect((await a.readJournal(c))!.done).toEqual(['create', 'backfill', 'catchup'])
      expect((await a.inspect(c)).journal!.planId).toBe('plan-1')
      await a.writeJournal(c, null)
      expect(await a.readJournal(c)).toBeNull()
    })

    it('search finds each row itself as the nearest neighbour', async () => {
      const seeded = rows(15)
      await h.seed(seeded)
      await h.remove(15)
      await a.createGeneration(c, spec(1))
      await backfill(1)
      await a.buildIndex(c, 1)
      for (const r of seeded.slice(0, 14)) {
        const hits = await a.search(c, 1, { vector: vectorFor(1, r.text), k: 5 })
        expect(k(hits[0]!.key)).toBe(k(r.key))
        expect(hits.length).toBe(5)
        expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score)
      }
    })

    async function catchup(generation: number): Promise<PendingRow[]> {
      return (await collect(a.pending(c, generation, { batchSize: 10, phase: 'catchup' }))).flat()
    }

    async function writeAll(generation: number, pending: PendingRow[]): Promise<void> {
      await a.write(c, generation, pending.map((r) => ({ key: r.key, token: r.token, vector: vectorFor(generation, r.text) })))
    }

    it('records freshness per row: fresh after the backfill, stale after an edit, missing after an insert, gone after a delete', async () => {
      await h.seed(rows(10))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      expect(await a.freshness(c, 1)).toMatchObject({ generation: 1, rows: 10, fresh: 10, stale: 0, missing: 0, unverified: 0, queued: 0, exact: true })
      await h.updateText(2, 'row two, edited by the application')
      await h.insert({ key: 100, text: 'a row the application inserted' })
      await h.remove(3)
      const f = await a.freshness(c, 1)
      expect(f).toMatchObject({ rows: 10, fresh: 8, stale: 1, missing: 1, unverified: 0 })
      expect(f.queued).toBeGreaterThanOrEqual(2)
      const left = await catchup(1)
      expect(left.map((r) => [k(r.key), r.text]).sort()).toEqual([
        ['100', 'a row the application inserted'],
        ['2', 'row two, edited by the application'],
      ])
      await writeAll(1, left)
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 10, fresh: 10, stale: 0, missing: 0, queued: 0 })
      expect(await catchup(1)).toEqual([])
    })

    it('catch-up reads only what changed, and a row changed again after it was read stays queued', async () => {
      await h.seed(rows(40))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      await h.updateText(7, 'seven, first edit')
      await h.updateText(21, 'twenty-one, first edit')
      const read = await catchup(1)
      expect(sorted(read.map((r) => k(r.key)))).toEqual(['21', '7'])
      await h.updateText(7, 'seven, second edit')
      await writeAll(1, read)
      const again = await catchup(1)
      expect(again.map((r) => [k(r.key), r.text])).toEqual([['7', 'seven, second edit']])
      expect(await a.freshness(c, 1)).toMatchObject({ fresh: 39, stale: 1, missing: 0 })
      await writeAll(1, again)
      expect(await a.freshness(c, 1)).toMatchObject({ fresh: 40, stale: 0, missing: 0, queued: 0 })
    })

    it('live and retained generations each keep their own freshness record', async () => {
      await liveFirstGeneration(rows(12))
      await a.createGeneration(c, spec(2))
      await backfill(2)
      await a.buildIndex(c, 2)
      expect(await a.cutover(c, 2, embedFor(2))).toMatchObject({ status: 'done', leftStale: 0 })
      await h.updateText(5, 'row five, edited after the cutover')
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 12, fresh: 11, stale: 1 })
      expect(await a.freshness(c, 2)).toMatchObject({ rows: 12, fresh: 11, stale: 1 })
      expect((await catchup(1)).map((r) => k(r.key))).toEqual(['5'])
      expect((await catchup(2)).map((r) => k(r.key))).toEqual(['5'])
    })

    it('cutover embeds what is still pending while writes are held, and the new live generation is entirely fresh', async () => {
      await liveFirstGeneration(rows(15))
      await a.createGeneration(c, spec(2))
      await backfill(2)
      await a.buildIndex(c, 2)
      await h.insert({ key: 200, text: 'inserted just before the cutover' })
      await h.updateText(4, 'row four, edited just before the cutover')
      const result = await a.cutover(c, 2, embedFor(2))
      expect(result).toMatchObject({ status: 'done', embeddedWhileHeld: 2, leftStale: 0 })
      if (result.status === 'done') {
        expect(result.heldMs).toBeGreaterThanOrEqual(0)
        expect(result.swapMs).toBeGreaterThanOrEqual(0)
      }
      expect((await a.inspect(c)).live).toBe(2)
      expect(await a.freshness(c, 2)).toMatchObject({ rows: 16, fresh: 16, stale: 0, missing: 0, queued: 0 })
      const hit = await a.search(c, 2, { vector: vectorFor(2, 'inserted just before the cutover'), k: 1 })
      expect(k(hit[0]!.key)).toBe('200')
      const edited = await a.search(c, 2, { vector: vectorFor(2, 'row four, edited just before the cutover'), k: 1 })
      expect(k(edited[0]!.key)).toBe('4')
      expect(edited[0]!.score).toBeGreaterThan(0.99)
    })

    it('cutover changes nothing and says `behind` when more rows are pending than it may embed while holding writes', async () => {
      await liveFirstGeneration(rows(10))
      await a.createGeneration(c, spec(2))
      await backfill(2)
      await h.updateText(1, 'one, edited')
      await h.updateText(2, 'two, edited')
      await h.insert({ key: 300, text: 'three hundred' })
      const before = await a.inspect(c)
      expect(await a.cutover(c, 2, embedFor(2, 2))).toMatchObject({ status: 'behind', pending: 3 })
      expect(await a.cutover(c, 2, { maxHeldRows: 100 })).toMatchObject({ status: 'behind', pending: 3 })
      const after = await a.inspect(c)
      expect(after.live).toBe(1)
      expect(after.version).toBe(before.version)
      expect(await a.cutover(c, 2, embedFor(2, 3))).toMatchObject({ status: 'done', embeddedWhileHeld: 3 })
      expect(await a.freshness(c, 2)).toMatchObject({ rows: 11, fresh: 11, queued: 0 })
    })

    it('rolls back to a retained generation embedding exactly its stale and missing rows, or accepts them stale when told to', async () => {
      await liveFirstGeneration(rows(10))
      await a.createGeneration(c, spec(2))
      await backfill(2)
      await a.cutover(c, 2, embedFor(2))
      await h.updateText(6, 'six, edited while g2 was live')
      await h.insert({ key: 400, text: 'four hundred, inserted while g2 was live' })
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 11, fresh: 9, stale: 1, missing: 1 })
      const accepted = await a.cutover(c, 1, { maxHeldRows: 0, acceptStale: true })
      expect(accepted).toMatchObject({ status: 'done', embeddedWhileHeld: 0, leftStale: 2 })
      expect((await a.inspect(c)).live).toBe(1)
      expect(await a.freshness(c, 1)).toMatchObject({ stale: 1, missing: 1 })
      // g2 was live while the application wrote, so its record holds the same two changes.
      expect(await a.cutover(c, 2, embedFor(2))).toMatchObject({ status: 'done', embeddedWhileHeld: 2 })
      const back = await a.cutover(c, 1, embedFor(1))
      expect(back).toMatchObject({ status: 'done', embeddedWhileHeld: 2, leftStale: 0 })
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 11, fresh: 11, stale: 0, missing: 0 })
      const six = await a.search(c, 1, { vector: vectorFor(1, 'six, edited while g2 was live'), k: 1 })
      expect(k(six[0]!.key)).toBe('6')
      expect(six[0]!.score).toBeGreaterThan(0.99)
    })

    it('writes the live generation only when asked to (sync), recording freshness', async () => {
      await liveFirstGeneration(rows(6))
      await h.updateText(3, 'three, edited after the cutover')
      const pending = await catchup(1)
      const vectors = pending.map((r) => ({ key: r.key, token: r.token, vector: vectorFor(1, r.text) }))
      await expectCode(a.write(c, 1, vectors), 'E_WRITE_LIVE')
      await a.write(c, 1, vectors, { live: true })
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 6, fresh: 6, stale: 0, queued: 0 })
      const hit = await a.search(c, 1, { vector: vectorFor(1, 'three, edited after the cutover'), k: 1 })
      expect(k(hit[0]!.key)).toBe('3')
    })

    it('verify counts queued stale and missing rows without failing, and fails on rows the change record does not hold', async () => {
      await h.seed(rows(12))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      await a.buildIndex(c, 1)
      await h.updateText(4, 'four, edited after the backfill')
      await h.insert({ key: 500, text: 'five hundred' })
      const report = await a.verify(c, 1)
      expect(report).toMatchObject({ total: 13, populated: 13 - 1, missing: 1, stale: 1, untracked: 0, wrongDimensions: 0, indexValid: true, ok: true })
      expect(report.sample.selfFound).toBe(report.sample.checked)
      expect(report.indexRecall).toBeGreaterThan(0.5)
    })

    it('a row written with no vector (zero_vectors: skip) is skipped, not pending, until its text changes', async () => {
      await h.seed(rows(6))
      await a.createGeneration(c, testSpec(1, DIMS, h.index?.settings ?? baseIndex, 'skip'))
      const [page] = await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))
      await a.write(c, 1, page!.map((r) => ({ key: r.key, token: r.token, vector: k(r.key) === '4' ? null : vectorFor(1, r.text) })))
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 6, fresh: 5, stale: 0, missing: 0, skipped: 1 })
      expect((await a.inspect(c)).generations[0]!.populated).toBe(5)
      expect(await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))).toEqual([])
      expect(await catchup(1)).toEqual([])
      await a.buildIndex(c, 1)
      const report = await a.verify(c, 1)
      expect(report).toMatchObject({ total: 6, populated: 5, missing: 0, skipped: 1, stale: 0, untracked: 0, ok: true })
      expect(report.sample.selfFound).toBe(report.sample.checked)
      // Nothing is pending, so a cutover that may embed nothing switches.
      expect(await a.cutover(c, 1, { maxHeldRows: 0 })).toMatchObject({ status: 'done', leftStale: 0 })
      await h.updateText(4, 'row four has words now')
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 6, fresh: 5, missing: 1, skipped: 0 })
      const edited = await catchup(1)
      expect(edited.map((r) => [k(r.key), r.text])).toEqual([['4', 'row four has words now']])
      await a.write(c, 1, edited.map((r) => ({ key: r.key, token: r.token, vector: vectorFor(1, r.text) })), { live: true })
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 6, fresh: 6, missing: 0, skipped: 0, queued: 0 })
      expect((await a.inspect(c)).generations[0]!.populated).toBe(6)
      expect(k((await a.search(c, 1, { vector: vectorFor(1, 'row four has words now'), k: 1 }))[0]!.key)).toBe('4')
    })

    it('freshness and inspect are read-only', async () => {
      await h.seed(rows(8))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      await h.updateText(2, 'two, edited')
      const before = await a.inspect(c)
      const f1 = await a.freshness(c, 1)
      await a.inspect(c)
      const f2 = await a.freshness(c, 1)
      expect(f2).toEqual(f1)
      expect((await a.inspect(c)).version).toBe(before.version)
      expect((await catchup(1)).map((r) => k(r.key))).toEqual(['2'])
    })

    it('declares its capabilities', () => {
      expect(a.kind).toMatch(/^[a-z][a-z0-9_-]*$/)
      const caps = a.capabilities
      for (const flag of [caps.concurrentIndex, caps.hybridSearch, caps.inPlaceIndexRebuild]) expect(typeof flag).toBe('boolean')
      expect(caps.maxIndexDimensions.vector).toBeGreaterThanOrEqual(DIMS)
      // 0: the store does not offer that storage at all.
      expect(caps.maxIndexDimensions.halfvec).toBeGreaterThanOrEqual(0)
      if (caps.batch) {
        expect(Number.isInteger(caps.batch.rows) && caps.batch.rows > 0).toBe(true)
        expect(caps.batch.vectorBytes).toBeGreaterThan(0)
      }
    })

    it('describes adoption only when something needs adopting', async (ctx) => {
      if (!a.describeAdoption) return ctx.skip()
      await h.seed(rows(3))
      const state = await a.inspect(c)
      const lines = await a.describeAdoption(c)
      if (state.adoptable === undefined) expect(lines).toEqual([])
      else for (const line of lines) expect(line).toMatch(/\S/)
    })

    it('preflight finds no error on a collection it can migrate, and changes nothing', async (ctx) => {
      if (!a.preflight) return ctx.skip()
      await h.seed(rows(6))
      const observe = async () => (h.snapshot ? await h.snapshot() : JSON.stringify(await a.inspect(c)))
      const before = await observe()
      const problems = await a.preflight(c, { dimensions: DIMS, storage: spec(1).storage, createsObjects: true, cutsOver: true, generation: spec(1) })
      for (const p of problems) {
        expect(['error', 'warning', 'note']).toContain(p.severity)
        for (const text of [p.code, p.message, p.object]) expect(text).toMatch(/\S/)
        // A note is information; an error or warning names the next action.
        if (p.severity !== 'note') expect(p.hint).toMatch(/\S/)
      }
      expect(problems.filter((p) => p.severity === 'error')).toEqual([])
      expect(await observe()).toBe(before)
    })

    it('measures the pipeline on sampled rows without changing the store', async (ctx) => {
      if (!a.measurePipeline) return ctx.skip()
      await h.seed(rows(20))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      const observe = async () => (h.snapshot ? await h.snapshot() : JSON.stringify([await a.inspect(c), await a.freshness(c, 1)]))
      const before = await observe()
      const encoded: string[] = []
      const m = await a.measurePipeline(c, {
        dimensions: DIMS,
        storage: spec(1).storage,
        sampleRows: 5,
        encode: async (texts) => {
          encoded.push(...texts)
          return texts.map((t) => vectorFor(2, t))
        },
      })
      expect(m.rows).toBeGreaterThan(0)
      expect(m.rows).toBeLessThanOrEqual(5)
      expect(encoded.length).toBe(m.rows)
      for (const ms of [m.readMs, m.encodeMs, m.writeMs]) expect(ms).toBeGreaterThanOrEqual(0)
      expect(await observe()).toBe(before)
    })

    it('adopt does nothing when nothing needs adopting', async (ctx) => {
      if (!a.adopt) return ctx.skip()
      await h.seed(rows(4))
      const state = await a.inspect(c)
      if (state.adoptable !== undefined) return ctx.skip()
      const observe = async () => (h.snapshot ? await h.snapshot() : JSON.stringify(await a.inspect(c)))
      const before = await observe()
      await a.adopt(c)
      expect(await observe()).toBe(before)
    })

    it('rebuilds only the index with new settings, keeping every vector fresh', async (ctx) => {
      if (!a.capabilities.inPlaceIndexRebuild || !h.index?.rebuilt) return ctx.skip()
      await h.seed(rows(30))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      await a.buildIndex(c, 1)
      const state = await a.inspect(c)
      const before = state.generations.find((g) => g.id === 1)!
      expect(before.index?.valid).toBe(true)
      await a.dropIndex(c, 1)
      expect((await a.inspect(c)).generations.find((g) => g.id === 1)!.index).toBeNull()
      await a.buildIndex(c, 1, undefined, h.index.rebuilt)
      const after = await a.inspect(c)
      const g1 = after.generations.find((g) => g.id === 1)!
      expect(g1.index?.valid).toBe(true)
      expect(g1.index?.settingsHash).not.toBe(before.index?.settingsHash)
      expect(g1.indexSettings).toEqual(h.index.rebuilt)
      expect(g1.populated).toBe(30)
      expect(after.version).not.toBe(state.version)
      expect(await a.freshness(c, 1)).toMatchObject({ rows: 30, fresh: 30, stale: 0, missing: 0 })
      for (const r of rows(30).slice(0, 5)) {
        const hit = await a.search(c, 1, { vector: vectorFor(1, r.text), k: 1 })
        expect(k(hit[0]!.key)).toBe(k(r.key))
      }
      expect(await a.verify(c, 1)).toMatchObject({ ok: true, indexValid: true, missing: 0 })
    })

    it('inspect, freshness and verify change nothing in the store', async () => {
      await h.seed(rows(10))
      await a.createGeneration(c, spec(1))
      await backfill(1)
      await a.buildIndex(c, 1)
      await h.updateText(3, 'three, edited')
      const observe = async () => (h.snapshot ? await h.snapshot() : JSON.stringify([await a.inspect(c), await a.freshness(c, 1)]))
      const before = await observe()
      await a.inspect(c)
      await a.inspect({ ...c, target: `${c.target}_missing` })
      await a.freshness(c, 1)
      await a.verify(c, 1)
      expect(await observe()).toBe(before)
    })

    it('a second adapter over the same store sees the same state, and close() releases it', async (ctx) => {
      if (!h.reopen) return ctx.skip()
      await liveFirstGeneration(rows(6))
      const other = await h.reopen()
      try {
        const mine = await a.inspect(c)
        const theirs = await other.inspect(c)
        expect(theirs.live).toBe(1)
        expect(theirs.version).toBe(mine.version)
        expect(await other.freshness(c, 1)).toEqual(await a.freshness(c, 1))
        const hit = await other.search(c, 1, { vector: vectorFor(1, rows(6)[2]!.text), k: 1 })
        expect(k(hit[0]!.key)).toBe('3')
      } finally {
        await other.close()
      }
      expect((await a.inspect(c)).live).toBe(1)
    })
  })
}
