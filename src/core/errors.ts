/**
 * Errors are values: a stable code, a message a user can act on, and the thing they are about
 * (file/line/column/key path, or a store object). Commands map them to exit codes; nothing else
 * decides how an error is shown.
 */

export const ExitCode = {
  ok: 0,
  failure: 1,
  badInput: 2,
  planHasChanges: 3,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** Where a problem is: a file position and key path, or a named object in a store. */
export interface ErrorLocation {
  file?: string
  line?: number
  column?: number
  /** JSON-pointer-like key path, e.g. `collections.docs.profile`. */
  path?: string
  /** A store object: `table public.docs`, `column embedding__g2`, `index docs__g3`. */
  object?: string
}

/** Codes are grouped by the exit code they imply; `kind` decides it. */
export type ErrorKind = 'input' | 'failure'

export interface ErrorDetails {
  code: string
  message: string
  kind?: ErrorKind
  location?: ErrorLocation
  /** A concrete next step: "did you mean `profile`?", "run `embedform models build starter`". */
  hint?: string
  cause?: unknown
}

export class EmbedformError extends Error {
  readonly code: string
  readonly kind: ErrorKind
  readonly location: ErrorLocation | undefined
  readonly hint: string | undefined

  constructor(details: ErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'EmbedformError'
    this.code = details.code
    this.kind = details.kind ?? 'failure'
    this.location = details.location
    this.hint = details.hint
  }

  get exitCode(): ExitCode {
    return this.kind === 'input' ? ExitCode.badInput : ExitCode.failure
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.location ? { location: this.location } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
    }
  }
}

/** Bad input from the user: config, profile, flags, model files, plan files. Exit code 2. */
export function inputError(code: string, message: string, extra: Omit<ErrorDetails, 'code' | 'message' | 'kind'> = {}): EmbedformError {
  return new EmbedformError({ code, message, kind: 'input', ...extra })
}

/** Something went wrong while doing the work: store, network, runtime. Exit code 1. */
export function failure(code: string, message: string, extra: Omit<ErrorDetails, 'code' | 'message' | 'kind'> = {}): EmbedformError {
  return new EmbedformError({ code, message, kind: 'failure', ...extra })
}

/** Several input problems found at once (e.g. every schema violation in a file). */
export class EmbedformErrors extends EmbedformError {
  readonly errors: EmbedformError[]

  constructor(errors: EmbedformError[]) {
    const first = errors[0]
    super({
      code: first?.code ?? 'E_MULTIPLE',
      message: errors.length === 1 && first ? first.message : `${errors.length} problems found`,
      kind: errors.some((e) => e.kind === 'failure') ? 'failure' : 'input',
      location: first?.location,
      hint: first?.hint,
    })
    this.errors = errors
  }

  override toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, errors: this.errors.map((e) => e.toJSON()) }
  }
}

export function formatLocation(loc: ErrorLocation | undefined): string {
  if (!loc) return ''
  const parts: string[] = []
  if (loc.file) parts.push([loc.file, loc.line, loc.column].filter((p) => p !== undefined).join(':'))
  if (loc.path) parts.push(`at ${loc.path}`)
  if (loc.object) parts.push(loc.object)
  return parts.join(' ')
}

/** One line per error: `file:line:col at key.path: message (hint)` — what the CLI prints to stderr. */
export function formatError(err: EmbedformError): string {
  const list = err instanceof EmbedformErrors ? err.errors : [err]
  return list
    .map((e) => {
      const where = formatLocation(e.location)
      const head = where ? `${where}: ` : ''
      return `error[${e.code}] ${head}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`
    })
    .join('\n')
}

export function isEmbedformError(e: unknown): e is EmbedformError {
  return e instanceof EmbedformError
}
