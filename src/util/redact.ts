/** Secrets never reach output: passwords in URLs and known secret keys are replaced. */
const SECRET_KEYS = /pass(word)?|secret|token|api[_-]?key|credential/i

export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '****'
    return u.toString()
  } catch {
    return url.replace(/(\/\/[^:/@]+:)[^@/]+@/, '$1****@')
  }
}

export function redact<T>(value: T): T {
  if (typeof value === 'string') return (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value) as T
  if (Array.isArray(value)) return value.map((v) => redact(v)) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_KEYS.test(k) && typeof v === 'string' && v !== '' ? '****' : redact(v)
    }
    return out as T
  }
  return value
}
