import { fixed, renderTable } from '../eval/table.js'
import type { SearchResult } from './search.js'

/** Text collapsed onto one line and cut at `width` characters, so each hit stays one row. */
export function snippet(text: string, width = 80): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`
}

function ms(n: number): string {
  return `${n.toFixed(1)} ms`
}

export function renderSearch(r: SearchResult): string {
  const head = `collection "${r.collection}", generation g${r.generation} (${r.profile})${r.hybrid ? ', hybrid' : ''}${r.reranked ? `, reranked ${r.retrieved} → ${r.hits.length}` : ''}`
  const table = r.hits.length
    ? renderTable(
        ['rank', 'key', 'score', 'text'],
        r.hits.map((h) => [String(h.rank), String(h.key), fixed(h.score), snippet(h.text)]),
        ['right', 'left', 'right', 'left'],
      )
    : 'no hits'
  const t = r.timings
  const split = [`encode ${ms(t.encodeMs)}`, `retrieve ${ms(t.retrieveMs)}`, ...(t.rerankMs === null ? [] : [`rerank ${ms(t.rerankMs)}`])]
  return [head, table, `latency: ${split.join(' · ')} · total ${ms(t.totalMs)} (model load ${ms(t.loadMs)})`].join('\n')
}
