/**
 * The OpenSearch adapter against the HTTP double: the shared scenarios, plus what only a double
 * can show — injected 429s and item failures, a cluster without point-in-time, and exactly
 * which requests the adapter sent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { collect, embed, openSearchScenarios, rejection, spec, useContext, vec, rows } from '../helpers/opensearch-double/scenarios.js'
import { OpenSearchAdapter } from '../../plugins/opensearch/index.js'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'

let double: OpenSearchDouble
beforeAll(async () => {
  double = await startOpenSearchDouble()
})
afterAll(async () => {
  await double.close()
})

openSearchScenarios('HTTP double', () => double.url)

describe('OpenSearch adapter: faults and requests (HTTP double only)', () => {
  const t = useContext(() => double.url)
  beforeEach(() => {
    double.faults.bulkRejections = 0
    double.faults.items.clear()
    double.pitSupported = true
  })

  it('retries whole-request and per-item 429s with backoff and reports every other failed document by id', async () => {
    const { h, a, c } = t
    await h.seed(rows(12))
    await a.createGeneration(c, spec(1))
    double.faults.bulkRejections = 2
    double.faults.items.set('3', { status: 429, type: 'es_rejected_execution_exception', times: 2 })
    double.faults.items.set('7', { status: 400, type: 'illegal_argument_exception', times: 1 })
    double.faults.items.set('9', { status: 500, type: 'exception', times: 1 })
    const [page] = await collect(a.pending(c, 1, { batchSize: 20, phase: 'backfill' }))
    const before = double.requests.filter((r) => r.endsWith('/_bulk')).length
    const err = await rejection(a.write(c, 1, page!.map((r) => ({ key: r.key, token: r.token, version: r.version, vector: vec(1, r.text) }))))
    expect(err.code).toBe('E_BULK_FAILED')
    expect(err.message).toMatch(/^2 of 12 documents were not written/)
    expect(err.message).toContain('7 (400 illegal_argument_exception')
    expect(err.message).toContain('9 (500 exception')
    expect(err.location?.object).toBe(`index ${c.target}__g1`)
    // 2 rejected requests, the full request, then 2 retries for the item 429s on document 3.
    expect(double.requests.filter((r) => r.endsWith('/_bulk')).length - before).toBe(5)
    const left = (await collect(a.pending(c, 1, { batchSize: 20, phase: 'backfill' }))).flat()
    expect(left.map((r) => String(r.key))).toEqual(['7', '9'])
  })

  it('gives up on a document still rejected with 429 after the configured attempts, and says so', async () => {
    const { h, a, c } = t
    await h.seed(rows(3))
    await a.createGeneration(c, spec(1))
    double.faults.items.set('2', { status: 429, type: 'es_rejected_execution_exception', times: 99 })
    const [page] = await collect(a.pending(c, 1, { batchSize: 20, phase: 'backfill' }))
    const err = await rejection(a.write(c, 1, page!.map((r) => ({ key: r.key, token: r.token, vector: vec(1, r.text) }))))
    expect(err.message).toContain('2 (429 still rejected (429) after 5 attempts)')
  })

  it('opens one point-in-time per pass, pages with search_after, and closes it', async () => {
    const { h, a, c } = t
    await h.seed(rows(35))
    await a.createGeneration(c, spec(1))
    const start = double.requests.length
    expect((await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))).length).toBe(4)
    const seen = double.requests.slice(start)
    expect(seen.filter((r) => r === `POST /${c.target}/_search/point_in_time`)).toHaveLength(1)
    expect(seen.filter((r) => r === 'POST /_search')).toHaveLength(4)
    expect(seen.filter((r) => r === 'DELETE /_search/point_in_time')).toHaveLength(1)
    expect(double.cluster.pits.size).toBe(0)
  })

  it('falls back to scroll on a cluster without point-in-time', async () => {
    const { h, a, c } = t
    await h.seed(rows(23))
    await a.createGeneration(c, spec(1))
    double.pitSupported = false
    const pages = await collect(a.pending(c, 1, { batchSize: 10, phase: 'backfill' }))
    expect(pages.map((p) => p.length)).toEqual([10, 10, 3])
    expect(double.requests).toContain('POST /_search/scroll')
    expect(double.requests).toContain('DELETE /_search/scroll')
  })

  it('hybrid search over text fields that include a number does not fail on a word (lenient)', async () => {
    const { h, a, c } = t
    await h.seed(rows(4))
    const withId = { ...c, text: { columns: ['body', 'id'], separator: ' ' } }
    await a.createGeneration(withId, spec(1))
    for await (const page of a.pending(withId, 1, { batchSize: 10, phase: 'backfill' })) {
      await a.write(withId, 1, page.map((r) => ({ key: r.key, token: r.token, vector: vec(1, r.text) })))
    }
    const hits = await a.search(withId, 1, { vector: vec(1, 'document 2 on subject 1 2'), k: 2, text: 'subject', hybrid: true })
    expect(hits.length).toBe(2)
  })

  it('refuses to write state when .embedform cannot be created, instead of letting it be mapped dynamically', async () => {
    const { h, a, c } = t
    await h.seed(rows(1))
    const existed = double.cluster.indices.get('.embedform')
    double.cluster.indices.delete('.embedform')
    double.cluster.refuseCreation.set('.embedform', { type: 'security_exception', reason: 'no permissions for [indices:admin/create]' })
    try {
      const err = await rejection(a.lock(c, 'a run'))
      expect(err.code).toBe('E_STATE_INDEX')
      expect(err.message).toContain('security_exception')
      expect(double.cluster.indices.has('.embedform')).toBe(false)
    } finally {
      double.cluster.refuseCreation.clear()
      if (existed) double.cluster.indices.set('.embedform', existed)
    }
  })

  it('inspect posts no _refresh and no write', async () => {
    const { h, a, c } = t
    await h.seed(rows(3))
    await a.createGeneration(c, spec(1))
    await t.backfill(1)
    await h.updateText(2, 'two, edited')
    // A new process, as plan runs: nothing written by it yet.
    const fresh = new OpenSearchAdapter(t.http)
    const start = double.requests.length
    await fresh.inspect(c)
    await fresh.freshness(c, 1)
    const seen = double.requests.slice(start)
    // Closing the point-in-time its scan opened is the only DELETE.
    expect(seen.filter((r) => r.includes('_refresh') || r.startsWith('PUT') || (r.startsWith('DELETE') && r !== 'DELETE /_search/point_in_time') || r.endsWith('_bulk'))).toEqual([])
  })

  it('switches with exactly one _aliases request per cutover and one _search per hybrid query', async () => {
    const { a, c } = t
    await t.ready(5)
    let start = double.requests.length
    await a.cutover(c, 1, embed(1))
    const seen = double.requests.slice(start)
    expect(seen.filter((r) => r === 'POST /_aliases')).toHaveLength(1)
    // The write block goes on before the last changes are read and stays until after the swap.
    const block = seen.indexOf(`PUT /${c.target}/_block/write`)
    expect(block).toBeGreaterThanOrEqual(0)
    expect(seen.indexOf(`POST /${c.target}/_refresh`, block)).toBeGreaterThan(block)
    expect(seen.indexOf('POST /_aliases')).toBeGreaterThan(seen.indexOf(`POST /${c.target}/_refresh`, block))
    start = double.requests.length
    await a.search(c, 1, { vector: vec(1, 'x'), k: 3, text: 'document', hybrid: true })
    expect(double.requests.slice(start).filter((r) => r.endsWith('/_search'))).toHaveLength(1)
  })
})
