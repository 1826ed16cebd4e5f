import type { CollectionStatus, RollbackResult } from '../../apply/types.js'
import { fingerprint } from '../../core/fingerprint.js'
import type { Config } from '../../core/types.js'

/**
 * After a rollback the stores and the configuration disagree until the configuration names the
 * profile of the generation now live; otherwise the next `apply` migrates forward again.
 */
export type StickAdvice =
  | { kind: 'already'; profile: string }
  | { kind: 'profile-use'; profile: string; command: string }
  | { kind: 'profile-changed'; profile: string; message: string }
  | { kind: 'unknown-model'; message: string }
  | { kind: 'none' }

export function stickAdvice(config: Config, collection: string, now: CollectionStatus | undefined): StickAdvice {
  const live = now?.live
  if (!now || !live) return { kind: 'none' }
  if (now.matchesConfig) return { kind: 'already', profile: now.desired.profile }
  if (live.profile === null) {
    return {
      kind: 'unknown-model',
      message: `g${live.generation} holds vectors of a model embedform does not know, so no profile describes it: \`embedform apply\` would migrate away from it again. Set \`adopted_profile\` on collections.${collection} if one of your profiles made these vectors.`,
    }
  }
  const profile = config.profiles[live.profile]
  if (!profile || (live.fingerprint !== null && fingerprint(profile) !== live.fingerprint)) {
    return {
      kind: 'profile-changed',
      profile: live.profile,
      message: `profile ${live.profile} ${profile ? 'in profiles/ no longer makes' : 'is no longer defined, and made'} g${live.generation}'s vectors: \`embedform apply\` would migrate away from it again until the configuration names a profile with fingerprint ${live.fingerprint?.slice(0, 8) ?? '-'}.`,
    }
  }
  return { kind: 'profile-use', profile: live.profile, command: `embedform profile use ${live.profile} --collection ${collection}` }
}

export interface RollbackView {
  result: RollbackResult
  advice: StickAdvice
  /** Config keys --update-config changed. */
  updated?: { path: string; from: string | null; to: string }[]
}

export function renderRollback(v: RollbackView): string {
  const r = v.result
  const gen = (g: number | null) => (g === null ? 'none' : `g${g}`)
  const changed = r.stale + r.missing
  const how = changed === 0 ? 'nothing re-embedded: no row changed while it was not live' : `${r.reembedded} row(s) re-embedded: ${r.stale} edited and ${r.missing} inserted while it was not live`
  const held = r.heldMs === undefined ? '' : `; application writes held ${Math.round(r.heldMs)} ms`
  const lines = [`Rolled back ${r.collection}: ${gen(r.from)} → ${gen(r.to)} live (${how}${held}).`]
  if (r.indexRebuildMs !== undefined) lines.push(`Rebuilt the index of ${gen(r.to)} first (${(r.indexRebuildMs / 1000).toFixed(1)} s): it had been dropped by \`embedform gc --indexes\`.`)
  if (r.abandoned) lines.push(`Abandoned the apply in flight (plan ${r.abandoned.planId}, g${r.abandoned.generation}).`)
  for (const w of r.warnings) lines.push(`warning: ${w}`)
  const a = v.advice
  if (v.updated) {
    lines.push(
      v.updated.length > 0
        ? `Updated the configuration: ${v.updated.map((c) => `${c.path}: ${c.from ?? '(unset)'} → ${c.to}`).join(', ')}. \`embedform plan\` now shows no changes for ${r.collection}.`
        : `The configuration already names profile ${a.kind === 'profile-use' ? a.profile : ''}; nothing to update.`,
    )
  } else if (a.kind === 'already') lines.push(`The configuration already describes ${gen(r.to)} (profile ${a.profile}): nothing more to do.`)
  else if (a.kind === 'profile-use') {
    lines.push(`To make it stick, point the configuration at profile ${a.profile}: \`${a.command}\` (or run rollback with --update-config). Until then \`embedform apply\` migrates forward again.`)
  } else if (a.kind === 'profile-changed' || a.kind === 'unknown-model') lines.push(`note: ${a.message}`)
  return lines.join('\n')
}
