import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Profile } from '../../core/types.js'
import type { SessionTuning } from '../providers.js'
import { runInChild, spread } from './compare.js'
import type { RunResult, VariantId } from './variants.js'

/** One InferenceSession setting changed from the defaults, or the thread count. */
interface Trial {
  name: string
  tuning?: Partial<SessionTuning>
  threads?: number
}

export interface SessionOptionsReport {
  model: string
  precision: 'fp32' | 'int8'
  texts: number
  rounds: number
  loadAverage1m: { min: number; median: number; max: number }
  /** texts/s of each trial ÷ texts/s of the defaults measured in the same round. */
  trials: Record<string, { textsPerSecond: { min: number; median: number; max: number }; vsDefault: { min: number; median: number }; cpuSecondsPer1000Texts: number; peakRssMiB: number }>
}

function trials(threads: number): Trial[] {
  const list: Trial[] = [
    { name: 'defaults' },
    { name: 'graphOptimizationLevel=extended', tuning: { graphOptimizationLevel: 'extended' } },
    { name: 'graphOptimizationLevel=basic', tuning: { graphOptimizationLevel: 'basic' } },
    { name: 'graphOptimizationLevel=disabled', tuning: { graphOptimizationLevel: 'disabled' } },
    { name: 'enableCpuMemArena=false', tuning: { enableCpuMemArena: false } },
    { name: 'executionMode=parallel (interOp 2)', tuning: { executionMode: 'parallel', interOpNumThreads: 2 } },
    { name: 'allowSpinning=true', tuning: { allowSpinning: true } },
  ]
  if (threads > 1) list.push({ name: `intraOpNumThreads=${threads - 1}`, threads: threads - 1 })
  list.push({ name: `intraOpNumThreads=${threads * 2} (oversubscribed)`, threads: threads * 2 })
  return list
}

/**
 * Each InferenceSession option against the defaults, interleaved and each run in its own process,
 * so a setting is kept only when it wins in the same rounds, on the same load.
 */
export async function compareSessionOptions(opts: { profile: Profile; texts: number; words: number; rounds: number; threads: number; workerArgs?: readonly string[]; log?: (m: string) => void }): Promise<SessionOptionsReport> {
  const variant: VariantId = opts.profile.model.quantize === 'int8' ? 'embedform-int8' : 'embedform-fp32'
  const fp32Profile: Profile = { ...opts.profile, model: { ...opts.profile.model, quantize: undefined } }
  const list = trials(opts.threads)
  const runs = new Map<string, RunResult[]>(list.map((t) => [t.name, []]))
  const scratchDir = await mkdtemp(join(tmpdir(), 'embedform-bench-'))
  try {
    for (let r = 0; r < opts.rounds; r++) {
      for (let i = 0; i < list.length; i++) {
        const t = list[(i + r) % list.length] as Trial
        opts.log?.(`round ${r + 1}/${opts.rounds}: ${t.name} (load ${(loadavg()[0] ?? 0).toFixed(2)})`)
        const profile = { ...fp32Profile, threads: t.threads ?? opts.threads }
        runs.get(t.name)?.push(await runInChild({ variant, profile, texts: opts.texts, words: opts.words, scratchDir, ...(t.tuning ? { tuning: t.tuning } : {}) }, opts.workerArgs))
      }
    }
  } finally {
    await rm(scratchDir, { recursive: true, force: true })
  }
  const base = runs.get('defaults') as RunResult[]
  const report: SessionOptionsReport['trials'] = {}
  for (const [name, list] of runs) {
    const vs = spread(
      list.map((x, i) => (base[i] as RunResult).seconds / x.seconds),
      2,
    )
    report[name] = {
      textsPerSecond: spread(list.map((x) => opts.texts / x.seconds)),
      vsDefault: { min: vs.min, median: vs.median },
      cpuSecondsPer1000Texts: spread(list.map((x) => (1000 * x.cpuSeconds) / opts.texts), 3).median,
      peakRssMiB: Math.max(...list.map((x) => x.peakRssMiB)),
    }
  }
  return {
    model: opts.profile.model.source,
    precision: variant === 'embedform-int8' ? 'int8' : 'fp32',
    texts: opts.texts,
    rounds: opts.rounds,
    loadAverage1m: spread([...runs.values()].flat().map((x) => x.loadAverage1m), 2),
    trials: report,
  }
}
