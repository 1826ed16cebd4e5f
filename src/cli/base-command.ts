import { Command, Flags } from '@oclif/core'
import { EmbedformError, ExitCode, formatError, isEmbedformError } from '../core/errors.js'
import { fromUnexpected, stackOf } from './unexpected.js'

/**
 * Every command: `--json` and `--config`, errors rendered one way, exit codes from DESIGN.md
 * (0 ok, 1 failure, 2 bad input/usage, 3 plan has changes). Commands stay thin: parse flags,
 * call the library, render.
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

  /**
   * SIGINT and SIGTERM (a service manager, `kill`, a CI timeout) stop the command the same way:
   * `onStop` gets the first one; a second one ends the process at once. Returns the unsubscriber.
   */
  protected onInterrupt(onStop: (signal: 'SIGINT' | 'SIGTERM') => void): () => void {
    const exitCodes = { SIGINT: 130, SIGTERM: 143 } as const
    let stopping = false
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
      const handler = () => {
        if (stopping) process.exit(exitCodes[signal])
        stopping = true
        onStop(signal)
      }
      process.on(signal, handler)
      return [signal, handler] as const
    })
    return () => {
      for (const [signal, handler] of handlers) process.off(signal, handler)
    }
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
    process.exitCode = err.exitCode
    return this.exit(err.exitCode)
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
