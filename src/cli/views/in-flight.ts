import type { Journal } from '../../store/adapter.js'

/**
 * One description of an apply left in flight (stopped, killed or failed), shared by status, apply
 * and rollback so they always name the same state and the same next command.
 */
export interface InFlightView {
  /** `plan 1c2… → g2, 3 of 8 step(s) done, failed at docs/g2/verify (E_VERIFY: …)` */
  state: string
  /** The one command that continues, and the one that abandons. */
  next: string
}

export function describeInFlight(journal: Journal, collection: string, opts: { stashedHere: boolean; steps?: number }): InFlightView {
  const done = opts.steps === undefined ? `${journal.done.length} step(s) done` : `${journal.done.length} of ${opts.steps} step(s) done`
  const where = journal.failed
    ? `, failed at ${journal.failed.step} (${journal.failed.code}: ${journal.failed.message})`
    : journal.current
      ? `, stopped during ${journal.current}`
      : ''
  const abandon = `\`embedform rollback --collection ${collection}\` abandons it`
  const resumeAt = journal.failed?.step ?? journal.current
  const next = opts.stashedHere
    ? `\`embedform apply\` resumes it${resumeAt ? ` at ${resumeAt}` : ''}, or ${abandon}`
    : `it was started from another checkout: resume it there with \`embedform apply\`, or ${abandon}`
  return { state: `plan ${journal.planId} → g${journal.generation}, ${done}${where}, updated ${journal.updatedAt}`, next }
}
