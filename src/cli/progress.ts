import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import type { ProgressEvent, ProgressListener } from '../core/events.js'

/**
 * How apply shows progress: bars on an interactive stderr, plain periodic lines when stderr is
 * a file or pipe (CI logs), one JSON object per line on stdout for --json consumers.
 */
export type ProgressMode = 'tty' | 'plain' | 'json'

export interface ProgressRenderer {
  readonly listener: ProgressListener
  /** Finishes bars so later output starts on a clean line. Safe to call twice. */
  stop(): void
}

export function progressMode(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json'
  return stream.isTTY ? 'tty' : 'plain'
}

export function createProgressRenderer(
  mode: ProgressMode,
  opts: { out?: NodeJS.WritableStream; err?: NodeJS.WriteStream; intervalMs?: number; now?: () => number } = {},
): ProgressRenderer {
  const out = opts.out ?? process.stdout
  const err = opts.err ?? process.stderr
  const now = opts.now ?? Date.now
  if (mode === 'json') return jsonRenderer(out)
  if (mode === 'tty') return barRenderer(err, now)
  return plainRenderer(err, opts.intervalMs ?? 2000, now)
}

function jsonRenderer(out: NodeJS.WritableStream): ProgressRenderer {
  return {
    listener: (e) => out.write(`${JSON.stringify(e)}\n`),
    stop: () => undefined,
  }
}

interface StepClock {
  title: string
  startedAt: number
  total: number | undefined
  done: number
}

export function rowsPerSecond(done: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
}

/** Seconds left at the current rate; undefined until there is a rate and a total. */
export function etaSeconds(done: number, total: number | undefined, elapsedMs: number): number | undefined {
  const rate = rowsPerSecond(done, elapsedMs)
  if (total === undefined || rate <= 0) return undefined
  return Math.max(0, (total - done) / rate)
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`
  const m = Math.floor(seconds / 60)
  const s = Math.round(seconds % 60)
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

function progressLine(clock: StepClock, at: number): string {
  const elapsed = at - clock.startedAt
  const rate = rowsPerSecond(clock.done, elapsed)
  const eta = etaSeconds(clock.done, clock.total, elapsed)
  const count = clock.total === undefined ? `${clock.done}` : `${clock.done}/${clock.total} (${Math.floor((100 * clock.done) / Math.max(1, clock.total))}%)`
  return `  ${clock.title}: ${count}, ${Math.round(rate)} rows/s${eta === undefined ? '' : `, ETA ${formatDuration(eta)}`}`
}

function logLine(e: Extract<ProgressEvent, { type: 'log' }>): string {
  return e.level === 'warn' ? `warning: ${e.message}` : e.message
}

function plainRenderer(err: NodeJS.WritableStream, intervalMs: number, now: () => number): ProgressRenderer {
  const steps = new Map<string, StepClock>()
  const lastPrinted = new Map<string, number>()
  return {
    listener: (e) => {
      const at = now()
      switch (e.type) {
        case 'step-start':
          steps.set(e.step, { title: e.title, startedAt: at, total: e.total, done: 0 })
          lastPrinted.set(e.step, at)
          err.write(`${e.title}...\n`)
          break
        case 'progress': {
          const clock = steps.get(e.step)
          if (!clock) break
          clock.done = e.done
          if (e.total !== undefined) clock.total = e.total
          if (at - (lastPrinted.get(e.step) ?? 0) >= intervalMs) {
            lastPrinted.set(e.step, at)
            err.write(`${progressLine(clock, at)}\n`)
          }
          break
        }
        case 'step-end': {
          const clock = steps.get(e.step)
          steps.delete(e.step)
          const rows = clock && clock.done > 0 ? `, ${clock.done} rows at ${Math.round(rowsPerSecond(clock.done, e.ms))} rows/s` : ''
          err.write(`${clock?.title ?? e.step}: done in ${formatDuration(e.ms / 1000)}${rows}\n`)
          break
        }
        case 'log':
          err.write(`${logLine(e)}\n`)
          break
      }
    },
    stop: () => undefined,
  }
}

function barRenderer(err: NodeJS.WriteStream, now: () => number): ProgressRenderer {
  const multi = new MultiBar(
    {
      stream: err,
      // `eta` is a cli-progress built-in token computed from its own buffer; ours is `left`.
      format: ' {bar} {title} | {value}/{total} | {rate} | {left}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  )
  const bars = new Map<string, { bar: SingleBar; clock: StepClock }>()
  let stopped = false
  const payload = (clock: StepClock, at: number) => {
    const elapsed = at - clock.startedAt
    const eta = etaSeconds(clock.done, clock.total, elapsed)
    return {
      title: clock.title,
      rate: clock.total === undefined ? '-' : `${Math.round(rowsPerSecond(clock.done, elapsed))} rows/s`,
      left: eta === undefined ? 'ETA -' : `ETA ${formatDuration(eta)}`,
    }
  }
  return {
    listener: (e) => {
      if (stopped) return
      const at = now()
      switch (e.type) {
        case 'step-start': {
          const clock: StepClock = { title: e.title, startedAt: at, total: e.total, done: 0 }
          bars.set(e.step, { bar: multi.create(e.total ?? 1, 0, payload(clock, at)), clock })
          break
        }
        case 'progress': {
          const entry = bars.get(e.step)
          if (!entry) break
          entry.clock.done = e.done
          if (e.total !== undefined && e.total !== entry.clock.total) {
            entry.clock.total = e.total
            entry.bar.setTotal(e.total)
          }
          entry.bar.update(e.done, payload(entry.clock, at))
          break
        }
        case 'step-end': {
          const entry = bars.get(e.step)
          if (!entry) break
          const total = entry.clock.total ?? Math.max(1, entry.clock.done)
          entry.bar.setTotal(total)
          entry.bar.update(total, { ...payload(entry.clock, at), left: `done in ${formatDuration(e.ms / 1000)}` })
          bars.delete(e.step)
          break
        }
        case 'log':
          multi.log(`${logLine(e)}\n`)
          break
      }
    },
    stop: () => {
      if (stopped) return
      stopped = true
      multi.stop()
    },
  }
}
