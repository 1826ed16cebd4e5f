import type { EvalReport } from './evaluate.js'
import { fixed, renderTable } from './table.js'

/** Metric rows × generation columns, then where the numbers came from and how long they took. */
export function renderEvalReport(r: EvalReport): string {
  const columns = r.generations.map((g) => `g${g.generation} ${g.status}${g.profile ? ` (${g.profile})` : ''}`)
  const table = renderTable(
    ['metric', ...columns],
    r.metrics.map((m) => [m, ...r.generations.map((g) => { const v = g.metrics[m]; return v ? fixed(v.value) : '-' })]),
    ['left', ...columns.map(() => 'right' as const)],
  )
  const first = r.generations[0]?.metrics[r.metrics[0] ?? '']
  const basis = r.judged
    ? `${first?.queries ?? 0} of ${r.queries} queries have relevant judgements${first?.skipped ? ` (${first.skipped} without are left out of the means)` : ''}`
    : `${r.queries} queries, overlap of each generation's top k with the live generation's`
  const timing = r.generations.map((g) => `g${g.generation} encode ${(g.timings.encodeMs / Math.max(1, g.timings.queries)).toFixed(1)} ms/query, retrieve ${(g.timings.searchMs / Math.max(1, g.timings.queries)).toFixed(1)} ms/query`)
  return [`collection "${r.collection}": ${basis}`, table, ...timing].join('\n')
}
