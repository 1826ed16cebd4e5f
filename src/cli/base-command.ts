import { Command, Flags } from '@oclif/core'
import { EmbedformError, ExitCode, failure, formatError, isEmbedformError } from '../core/errors.js'
import { fromUnexpected, stackOf } from './unexpected.js'

export type StopSignal = 'SIGINT' | 'SIGTERM'

/** Shell convention: 128 + the signal's number. */
const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 }

/**
 * Every command: `--json` and `--config`, errors rendered one way, exit codes from DESIGN.md
 * (0 ok, 1 failure, 2 bad input/usage, 3 plan has changes; 130 / 143 when SIGINT / SIGTERM stopped
 * the work). Commands stay thin: parse flags, call the library, render.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'Print machine-readable JSON on stdout (errors too).', default: false }),
    debug: Flags.boolean({ description: 'Show the stack trace of an error (also inside --json); for bug reports. Same as EMBEDFORM_DEBUG=1.', default: false, helpGroup: 'GLOBAL' }),
    config: Flags.string({
      char: 'c',
      description: 'Path to embedding.config.yaml.',
      env: 'EMBEDFORM_CONFIG',
      default: 'embedding.config.yaml',
      helpGroup: 'GLOBAL',
    }),
  }

  protected get wantsJson(): boolean {
    return this.argv.includes('--json')
  }

  /** Read from argv: errors can happen before (or while) flags are parsed. */
  protected get wantsDebug(): boolean {
    return this.argv.includes('--debug') || process.env.EMBEDFORM_DEBUG === '1'
  }

  /** The signal that stopped the command, once one came: an E_INTERRUPTED then exits 128 + its number. */
  private stoppedBy: StopSignal | undefined

  /**
   * SIGINT and SIGTERM (a service manager, `kill`, a CI timeout) stop the command the same way:
   * `onStop` gets the first one; a second one ends the process at once. Returns the unsubscriber.
   */
  protected onInterrupt(onStop: (signal: StopSignal) => void): () => void {
    let stopping = false
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
      const handler = () => {
        if (stopping) process.exit(SIGNAL_EXIT[signal])
        stopping = true
        this.stoppedBy = signal
        onStop(signal)
      }
      process.on(signal, handler)
      return [signal, handler] as const
    })
    return () => {
      for (const [signal, handler] of handlers) process.off(signal, handler)
    }
  }

  /**
   * Long-running work that stops cleanly: `signal` aborts at the first SIGINT or SIGTERM, after
   * telling the user what happens now (`stopping`, e.g. "stopping after the batch in flight").
   */
  protected interruptible(stopping: string): { signal: AbortSignal; release: () => void } {
    const abort = new AbortController()
    const release = this.onInterrupt((signal) => {
      this.note(`\nInterrupted (${signal}): ${stopping} (${signal === 'SIGINT' ? 'Ctrl-C' : 'the same signal'} again to quit at once)...`)
      abort.abort()
    })
    return { signal: abort.signal, release }
  }

  /**
   * Read-only work abandoned at the signal: nothing it did needs undoing, so the command stops
   * at once with E_INTERRUPTED (`message`, `hint`) instead of waiting for it.
   */
  protected async untilInterrupted<T>(work: Promise<T>, signal: AbortSignal, message: string, hint: string): Promise<T> {
    if (signal.aborted) throw this.interrupted(message, hint)
    let onAbort: (() => void) | undefined
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () => reject(this.interrupted(message, hint))
      signal.addEventListener('abort', onAbort, { once: true })
    })
    // The abandoned work fails once its connections close; that is expected, not an error to report.
    work.catch(() => undefined)
    try {
      return await Promise.race([work, stopped])
    } finally {
      signal.removeEventListener('abort', onAbort!)
    }
  }

  /** E_INTERRUPTED: what was done and the next command; the process exits 130 (SIGINT) or 143 (SIGTERM). */
  protected interrupted(message: string, hint: string, cause?: unknown): EmbedformError {
    return failure('E_INTERRUPTED', message, { hint, ...(cause === undefined ? {} : { cause }) })
  }

  /** The exit code of `err`: 128 + the signal's number for an interruption by a signal. */
  protected exitCodeOf(err: EmbedformError): number {
    return err.code === 'E_INTERRUPTED' && this.stoppedBy ? SIGNAL_EXIT[this.stoppedBy] : err.exitCode
  }

  /** Prints `data` as JSON with --json, otherwise the human rendering. */
  protected emit(data: unknown, human: () => string): void {
    if (this.wantsJson) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`)
    else {
      const text = human()
      if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
    }
  }

  /** Diagnostics go to stderr so stdout stays clean for --json and piping. */
  protected note(message: string): void {
    if (!this.wantsJson) process.stderr.write(`${message}\n`)
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (isEmbedformError(err)) return this.fail(err)
    // oclif flag/arg parse errors are usage errors: exit 2.
    const name = err.constructor?.name ?? ''
    if (/Parse|Flag|Arg|Unexpected|Nonexistent|Required|Validation/.test(name) || err.oclif?.exit === 2) {
      return this.fail(new EmbedformError({ code: 'E_USAGE', message: err.message.trim(), kind: 'input', hint: `see \`embedform ${this.id?.replace(/:/g, ' ') ?? ''} --help\`` }))
    }
    if (err.oclif?.exit !== undefined) throw err
    return this.fail(fromUnexpected(err))
  }

  protected fail(err: EmbedformError): never {
    if (this.wantsJson) process.stdout.write(`${JSON.stringify({ ok: false, error: this.errorJson(err) }, null, 2)}\n`)
    else process.stderr.write(`${formatError(err)}\n${this.debugTrace(err)}`)
    const code = this.exitCodeOf(err)
    process.exitCode = code
    return this.exit(code)
  }

  /** The error as JSON, with its stack (and its cause's) only under --debug. */
  protected errorJson(err: EmbedformError): Record<string, unknown> {
    return this.wantsDebug ? { ...err.toJSON(), stack: stackOf(err) } : err.toJSON()
  }

  private debugTrace(err: EmbedformError): string {
    return this.wantsDebug ? `${stackOf(err)}\n` : ''
  }

  protected exitWith(code: ExitCode): never {
    process.exitCode = code
    return this.exit(code)
  }
}
