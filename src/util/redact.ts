/**
 * Secrets never reach output. Covered forms: the password of a URL (`user:password@`), secret
 * query parameters and libpq keywords (`?password=`, `sslpassword=`, `password=… host=…`), values
 * under secret keys (`password`, `api_key`, `accessToken`), and the values of secret-named
 * environment variables (`PGPASSWORD`, `OPENSEARCH_PASSWORD`) wherever `${env:…}` put them.
 */
const MASK = '****'

/** Words that make a key secret; `max_tokens` and `tokenizer` are not (whole words only). */
const SECRET_WORDS = new Set(['pass', 'passwd', 'password', 'sslpassword', 'pwd', 'secret', 'token', 'apikey', 'credential', 'credentials', 'auth', 'authorization'])
const SECRET_PAIRS = [['api', 'key'], ['private', 'key'], ['access', 'key'], ['secret', 'key']]

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
}

export function isSecretKey(key: string): boolean {
  const w = words(key)
  if (w.some((x) => SECRET_WORDS.has(x))) return true
  return SECRET_PAIRS.some(([a, b]) => w.some((x, i) => x === a && w[i + 1] === b))
}

/** `…://user:secret@host` (the password may hold an unencoded `@`: the last one before the host wins). */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^\s/]*@/gi
/** `?password=…`, `&sslpassword=…`, `;Password=…`: query parameters and connection-string keywords. */
const SECRET_PARAM = /([?&;](?:[a-z_]*pass(?:word|wd)?|pwd|[a-z_]*secret|[a-z_]*token|api[_-]?key|access[_-]?key)=)[^&;#\s]*/gi
/** libpq keyword/value strings: `host=db password=secret`, `password='a b'`. */
const KEYWORD_PASSWORD = /(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'&;]+)/gi

export function redactUrl(url: string): string {
  return url.replace(URL_PASSWORD, `$1${MASK}@`).replace(SECRET_PARAM, `$1${MASK}`)
}

/**
 * The shell's working directories: `pwd` is a secret word (`DB_PWD`), but masking $PWD would
 * hide every path under the directory the command runs in.
 */
const DIRECTORY_VARIABLES = new Set(['PWD', 'OLDPWD'])

/** Whether an environment variable's name says its value is secret. */
export function isSecretEnvName(name: string): boolean {
  return !DIRECTORY_VARIABLES.has(name) && isSecretKey(name)
}

/** Values of environment variables whose names say they are secret; short ones would mask too much. */
export function secretEnvValues(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([name, value]) => value !== undefined && value.length >= 4 && isSecretEnvName(name))
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length)
}

export function redactString(text: string, secrets: readonly string[] = []): string {
  let out = redactUrl(text).replace(KEYWORD_PASSWORD, `$1${MASK}`)
  for (const s of secrets) out = out.split(s).join(MASK)
  return out
}

export interface RedactOptions {
  /** Environment whose secret-named variables' values are masked wherever they appear. */
  env?: NodeJS.ProcessEnv
}

export function redact<T>(value: T, opts: RedactOptions = {}): T {
  return redactWith(value, secretEnvValues(opts.env ?? process.env))
}

function redactWith<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redactString(value, secrets) as T
  if (Array.isArray(value)) return value.map((v) => redactWith(v, secrets)) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const scalar = typeof v === 'string' || typeof v === 'number'
      out[k] = isSecretKey(k) && scalar && v !== '' ? MASK : redactWith(v, secrets)
    }
    return out as T
  }
  return value
}

/**
 * A resolved config value shown with its source (`config show --resolved`): masked as a secret
 * when it came from a secret-named environment variable (`env:PGPASSWORD`), whatever its key.
 */
export function redactSourced<T extends { path: string; value: unknown; source: string }>(row: T, env: NodeJS.ProcessEnv = process.env): T {
  const fromSecretEnv = [...row.source.matchAll(/env:([A-Za-z0-9_,]+)/g)].flatMap((m) => m[1]!.split(',')).some((name) => isSecretEnvName(name))
  if (fromSecretEnv && row.value !== null && row.value !== undefined && row.value !== '' && typeof row.value !== 'object') {
    return typeof row.value === 'string' && /:\/\//.test(row.value) ? { ...row, value: redact(row.value, { env }) } : { ...row, value: MASK }
  }
  const key = row.path.split('.').pop() ?? row.path
  return { ...row, value: (redact({ [key]: row.value }, { env }) as Record<string, unknown>)[key] }
}
