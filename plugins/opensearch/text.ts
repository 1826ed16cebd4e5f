import type { TextSource } from '../../src/core/types.js'

/** Fields whose values make a document's text. */
export function textFields(t: TextSource): string[] {
  return 'columns' in t ? t.columns : t.fields
}

function asText(v: unknown): string {
  if (v === undefined || v === null) return ''
  return Array.isArray(v) ? v.map(asText).join(' ') : typeof v === 'object' ? JSON.stringify(v) : String(v)
}

/** The text embedform embeds for one `_source`, built the same way the pgvector adapter does. */
export function documentText(t: TextSource, source: Record<string, unknown>): string {
  if ('columns' in t) {
    return t.columns
      .map((c) => asText(source[c]))
      .filter((s) => s !== '')
      .join(t.separator)
  }
  return t.template.replace(/\{([^}]+)\}/g, (_, f: string) => asText(source[f]))
}

/** updated-at values arrive as epoch millis or date strings; versions need epoch millis. */
export function epochMillis(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v)
  if (typeof v === 'string' && v !== '') {
    const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v)
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}
