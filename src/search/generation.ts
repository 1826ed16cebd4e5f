/**
 * `--generation live|gN|all`: parsed once from the flag, then resolved against what the store
 * actually holds (the store is the source of truth, never a local file).
 */
import { inputError } from '../core/errors.js'
import type { GenerationState, LiveState } from '../store/adapter.js'

export type GenerationSelector = { kind: 'live' } | { kind: 'id'; id: number } | { kind: 'all' }

export function parseGenerationSelector(text: string, opts: { allowAll: false }): Exclude<GenerationSelector, { kind: 'all' }>
export function parseGenerationSelector(text: string, opts: { allowAll: boolean }): GenerationSelector
export function parseGenerationSelector(text: string, opts: { allowAll: boolean }): GenerationSelector {
  const t = text.trim().toLowerCase()
  if (t === 'live') return { kind: 'live' }
  if (t === 'all' && opts.allowAll) return { kind: 'all' }
  const m = /^g?(\d+)$/.exec(t)
  if (m) return { kind: 'id', id: Number(m[1]) }
  throw inputError('E_GENERATION_SELECTOR', `"${text}" is not a generation: expected live${opts.allowAll ? ', all' : ''} or gN (e.g. g2)`, {
    location: { path: '--generation' },
  })
}

function listGenerations(state: LiveState): string {
  return state.generations.map((g) => `g${g.id} (${g.status})`).join(', ') || 'none'
}

/** The generations a selector names; throws naming what the collection does hold. */
export function selectGenerations(state: LiveState, selector: GenerationSelector): GenerationState[] {
  if (selector.kind === 'all') {
    if (state.generations.length === 0) throw noGenerations(state)
    return [...state.generations].sort((a, b) => a.id - b.id)
  }
  return [selectGeneration(state, selector)]
}

/** The one generation `live` or `gN` names. */
export function selectGeneration(state: LiveState, selector: Exclude<GenerationSelector, { kind: 'all' }>): GenerationState {
  if (selector.kind === 'live') {
    const live = state.generations.find((g) => g.id === state.live)
    if (!live) throw noGenerations(state)
    return live
  }
  const found = state.generations.find((g) => g.id === selector.id)
  if (!found) {
    throw inputError('E_GENERATION_NOT_FOUND', `collection "${state.collection}" has no generation g${selector.id}`, {
      location: { path: '--generation' },
      hint: `generations: ${listGenerations(state)}`,
    })
  }
  return found
}

function noGenerations(state: LiveState) {
  return inputError('E_NO_LIVE_GENERATION', `collection "${state.collection}" has no live generation yet`, {
    hint: state.generations.length > 0 ? `pick one with --generation: ${listGenerations(state)}` : 'run `embedform apply` to embed it first',
  })
}
