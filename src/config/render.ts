import type { ResolvedValue } from './index.js'

/** `key  value  source` columns for `config show --resolved` and `profile show`. */
export function formatRows(rows: ResolvedValue[]): string {
  const cells = rows.map((r) => [r.path, JSON.stringify(r.value), r.source])
  const widths = [0, 1].map((i) => Math.max(...cells.map((c) => c[i]!.length)))
  return cells.map((c) => `  ${c[0]!.padEnd(widths[0]!)}  ${c[1]!.padEnd(widths[1]!)}  ${c[2]}`).join('\n')
}
