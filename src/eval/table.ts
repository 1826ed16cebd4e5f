/**
 * Plain-text tables for eval and gate output: columns padded to their widest cell, numbers
 * right-aligned so decimals line up when a human scans a column.
 */
export type Align = 'left' | 'right'

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (align[i] === 'right' ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

export function fixed(n: number, digits = 4): string {
  return n.toFixed(digits)
}

/** Signed delta: `+0.0123`, `-0.0456`; a difference that rounds to nothing prints as `±0.0000`. */
export function signed(n: number, digits = 4): string {
  const s = Math.abs(n).toFixed(digits)
  if (Number(s) === 0) return `±${s}`
  return `${n > 0 ? '+' : '-'}${s}`
}
