/** The encoder comparison benchmark behind `embedform bench` and bench/encoder.ts. */
import { inputError } from '../../core/errors.js'
import { VARIANTS, type VariantId } from './variants.js'

export { BENCH_WORKER_ENV, compareEncoders, runBenchWorkerIfAsked, type CompareOptions, type CompareReport, type VariantSummary } from './compare.js'
export { benchTexts, defaultVariants, precisionOf, VARIANTS, type VariantId } from './variants.js'
export { compareSessionOptions, type SessionOptionsReport } from './session-options.js'

/** A comma-separated list of variant ids, checked against VARIANTS. */
export function parseVariants(value: string, flag = '--variants'): VariantId[] {
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean)
  const unknown = ids.filter((v) => !(VARIANTS as readonly string[]).includes(v))
  if (ids.length === 0 || unknown.length > 0) {
    throw inputError('E_USAGE', `unknown benchmark variant${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ') || '(none given)'}`, {
      location: { path: flag },
      hint: `variants: ${VARIANTS.join(', ')}`,
    })
  }
  return ids as VariantId[]
}
