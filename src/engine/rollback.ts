/**
 * rollback: switch readers back to a retained generation. Metadata only (a rename or an alias
 * switch in the store), never a re-embed; an apply that had not cut over yet is abandoned instead.
 */
import { failure, inputError } from '../core/errors.js'
import { selectCollections } from '../plan/make.js'
import type { EngineContext } from '../plan/types.js'
import type { GenerationState, LiveState } from '../store/adapter.js'
import type { RollbackResult } from '../apply/types.js'

function pickTarget(name: string, state: LiveState, to: number | undefined): GenerationState {
  const retained = state.generations.filter((g) => g.status === 'retained').sort((a, b) => b.id - a.id)
  if (to !== undefined) {
    const g = state.generations.find((x) => x.id === to)
    if (!g || g.status !== 'retained') {
      throw inputError('E_ROLLBACK_TARGET', `collection "${name}" has no retained generation g${to}${g ? ` (g${to} is ${g.status})` : ''}`, {
        hint: retained.length ? `retained: ${retained.map((x) => `g${x.id}`).join(', ')}` : 'nothing is retained',
      })
    }
    return g
  }
  // The newest generation older than the live one is the one readers used before the last cutover.
  const live = state.live ?? Number.POSITIVE_INFINITY
  const target = retained.find((g) => g.id < live) ?? retained[0]
  if (!target) {
    throw inputError('E_NOTHING_RETAINED', `collection "${name}" has no retained generation to roll back to`, {
      hint: 'generations are retained by each apply that cuts over, until `embedform gc` drops them',
    })
  }
  return target
}

export async function rollback(ctx: EngineContext, collectionName: string, opts: { to?: number } = {}): Promise<RollbackResult> {
  const [c] = selectCollections(ctx, [collectionName])
  if (!c) throw failure('E_INTERNAL', `collection ${collectionName} not resolved`)
  const adapter = await ctx.adapterFor(c.store)
  const release = await adapter.lock(c, ctx.holder)
  try {
    let state = await adapter.inspect(c)
    const warnings: string[] = []
    const journal = await adapter.readJournal(c)
    if (journal) {
      // Not cut over yet: readers never saw the new work, so undoing the apply means abandoning it.
      const beforeCutover = state.live !== journal.generation
      const building = state.generations.find((g) => g.id === journal.generation && g.status === 'building')
      if (building) await adapter.dropGeneration(c, building.id)
      await adapter.writeJournal(c, null)
      ctx.onEvent?.({ type: 'log', level: 'info', message: `abandoned apply of plan ${journal.planId} on ${c.name}${building ? ` and dropped building g${building.id}` : ''}` })
      if (beforeCutover && opts.to === undefined) {
        return { collection: c.name, from: state.live, to: state.live, abandoned: { planId: journal.planId, generation: journal.generation }, missing: 0, warnings }
      }
      state = await adapter.inspect(c)
    }
    const target = pickTarget(c.name, state, opts.to)
    const missing = Math.max(0, state.rows - target.populated)
    if (missing > 0) {
      warnings.push(`${missing.toLocaleString('en-US')} rows were written while g${target.id} was not live and have no vector in it; \`embedform apply\` embeds them`)
    }
    await adapter.cutover(c, target.id)
    return {
      collection: c.name,
      from: state.live,
      to: target.id,
      ...(journal ? { abandoned: { planId: journal.planId, generation: journal.generation } } : {}),
      missing,
      warnings,
    }
  } finally {
    await release()
  }
}
