import type { Config, Profile } from '../core/types.js'

/** What the picker and `profile list` show for a profile. */
export interface ProfileSummary {
  name: string
  description?: string
  model: string
  dimensions: number
  pooling: string
  /** Declared encoder throughput, texts/s. */
  throughput?: number
  /** Vector bytes per row: 4·d+8 for float32 (`vector`), 2·d+8 for float16 (`halfvec`). */
  bytesPerRow: number
  reranker?: string
  /** Collections embedded with this profile. */
  usedBy: string[]
  isDefault: boolean
}

export function bytesPerRow(p: Profile): number {
  return (p.index.storage === 'halfvec' ? 2 : 4) * p.dimensions + 8
}

export function summarizeProfiles(config: Config): ProfileSummary[] {
  return Object.values(config.profiles)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      name: p.name,
      ...(p.description ? { description: p.description } : {}),
      model: p.model.source,
      dimensions: p.dimensions,
      pooling: p.pooling,
      ...(p.throughput !== undefined ? { throughput: p.throughput } : {}),
      bytesPerRow: bytesPerRow(p),
      ...(p.reranker?.enabled ? { reranker: p.reranker.model.source } : {}),
      usedBy: Object.values(config.collections)
        .filter((c) => c.profile === p.name)
        .map((c) => c.name),
      isDefault: config.defaultProfile === p.name,
    }))
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`
}

/** Fixed-width table rows: name, model, dims, speed, storage per row and per million rows. */
export function profileTable(list: ProfileSummary[]): string {
  const head = ['', 'PROFILE', 'MODEL', 'DIMS', 'SPEED', 'PER ROW', 'PER 1M ROWS', 'USED BY']
  const body = list.map((s) => [
    s.isDefault ? '*' : ' ',
    s.name,
    s.model + (s.reranker ? ` + ${s.reranker}` : ''),
    String(s.dimensions),
    s.throughput !== undefined ? `~${s.throughput}/s` : '-',
    `${s.bytesPerRow} B`,
    formatBytes(s.bytesPerRow * 1_000_000),
    s.usedBy.join(', ') || '-',
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)))
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}
