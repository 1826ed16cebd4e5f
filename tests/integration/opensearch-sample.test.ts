/**
 * sample() on OpenSearch, against the HTTP double: random documents of the index the application
 * writes, and a generation's vectors with what its text-hash record says of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOpenSearchDouble, type OpenSearchDouble } from '../helpers/opensearch-double/server.js'
import { rows, useContext, vec } from '../helpers/opensearch-double/scenarios.js'

let double: OpenSearchDouble
beforeAll(async () => {
  double = await startOpenSearchDouble()
})
afterAll(async () => {
  await double.close()
})

describe('OpenSearch sample()', () => {
  const t = useContext(() => double.url)

  it('draws distinct documents at random, all of them when n exceeds the index', async () => {
    const { h, a, c } = t
    await h.seed(rows(30))
    const s = await a.sample(c, 10)
    expect(s).toHaveLength(10)
    expect(new Set(s.map((r) => r.key)).size).toBe(10)
    for (const r of s) expect(r.text).toBe(rows(30)[Number(r.key) - 1]!.text)
    // Two draws of 10 out of 30 are almost never equal; five in a row never are by chance.
    const draws = await Promise.all(Array.from({ length: 5 }, async () => (await a.sample(c, 10)).map((r) => r.key).sort().join(',')))
    expect(new Set(draws).size).toBeGreaterThan(1)
    expect((await a.sample(c, 100)).map((r) => Number(r.key)).sort((x, y) => x - y)).toEqual(rows(30).map((r) => r.key))
  })

  it("returns a generation's vectors with fresh, stale and missing records", async () => {
    const { h, a, c } = t
    await t.ready(6)
    await h.updateText(2, 'two, edited')
    await h.insert({ key: 7, text: 'seven, new' })
    const s = await a.sample(c, 10, 1)
    const byKey = new Map(s.map((r) => [String(r.key), r]))
    expect(byKey.size).toBe(7)
    expect(byKey.get('1')).toMatchObject({ record: 'fresh', text: rows(6)[0]!.text })
    Array.from(vec(1, rows(6)[0]!.text)).forEach((x, i) => expect(byKey.get('1')!.vector![i]).toBeCloseTo(x, 6))
    expect(byKey.get('2')).toMatchObject({ record: 'stale', text: 'two, edited' })
    expect(byKey.get('7')).toMatchObject({ record: 'missing', vector: null })
  })
})
