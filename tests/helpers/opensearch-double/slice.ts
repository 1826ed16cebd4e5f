import { createHash } from 'node:crypto'
import { OsError, validationFailed } from './errors.js'

type Json = Record<string, unknown>

/** OpenSearch's defaults for `index.max_slices_per_pit` and `index.max_slices_per_scroll`. */
const DEFAULT_MAX_SLICES = 1024

/** `[slice] failed to parse field [...]`: the SliceBuilder setters' IllegalArgumentException, wrapped by the parser. */
const parseFailure = (field: string, reason: string) => new OsError(400, 'x_content_parse_exception', `[1:2] [slice] failed to parse field [${field}]`, undefined, undefined, { type: 'illegal_argument_exception', reason })

/**
 * The `slice` of a search body as OpenSearch checks it, in the same order: the parser's setters
 * (id ≥ 0, max > 1, id < max whichever of them comes second), the request validation (a slice
 * needs a point-in-time or a scroll), and the shard's limit (`max` at most the index's
 * max_slices_per_pit or max_slices_per_scroll, else every shard rejects the search: 429).
 * Returns which documents the slice holds, or null for a search without a slice.
 */
export function sliceFilter(slice: unknown, ctx: { pit: boolean; scroll: boolean; settings: Record<string, string>[] }): ((id: string) => boolean) | null {
  if (slice === undefined || slice === null) return null
  let id = -1
  let max = -1
  for (const [key, raw] of Object.entries(slice as Json)) {
    if (key === 'field') {
      if (raw !== '_id') throw new OsError(400, 'illegal_argument_exception', `the double slices on _id only, not on [${String(raw)}]`)
      continue
    }
    if (key !== 'id' && key !== 'max') throw new OsError(400, 'x_content_parse_exception', `[1:2] [slice] unknown field [${key}]`)
    const v = Number(raw)
    if (!Number.isInteger(v)) throw parseFailure(key, `For input string: "${String(raw)}"`)
    if (key === 'id') {
      if (v < 0) throw parseFailure('id', 'id must be greater than or equal to 0')
      if (max !== -1 && v >= max) throw parseFailure('id', 'max must be greater than id')
      id = v
    } else {
      if (v <= 1) throw parseFailure('max', 'max must be greater than 1')
      if (id !== -1 && id >= v) throw parseFailure('max', 'max must be greater than id')
      max = v
    }
  }
  if (!ctx.pit && !ctx.scroll) throw validationFailed('[slice] can only be used with [scroll] or [point-in-time] requests')
  const setting = ctx.pit ? 'max_slices_per_pit' : 'max_slices_per_scroll'
  for (const s of ctx.settings) {
    const limit = Number(s[setting] ?? DEFAULT_MAX_SLICES)
    if (max > limit) {
      const reason = `The number of slices [${max}] is too large. It must be less than [${limit}]. This limit can be set by changing the [index.${setting}] index level setting.`
      throw new OsError(429, 'search_phase_execution_exception', 'all shards failed', undefined, [{ type: 'rejected_execution_exception', reason }])
    }
  }
  // One shard: the server keeps the documents whose _id hashes to the slice (TermsSliceQuery), so
  // a document is in the same slice whichever point-in-time or scroll reads it.
  return (docId) => idHash(docId) % max === id
}

const hashes = new Map<string, number>()
function idHash(docId: string): number {
  let h = hashes.get(docId)
  if (h === undefined) hashes.set(docId, (h = createHash('md5').update(docId).digest().readUInt32BE(0)))
  return h
}
