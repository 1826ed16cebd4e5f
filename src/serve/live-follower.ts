/**
 * Follows each collection's live generation by reading the store's own state (adapter.inspect)
 * every poll interval — the store is the source of truth, so a cutover or rollback made by any
 * process is seen the same way. On a change it loads the new generation's profile (the snapshot
 * stored with the generation), then moves the collection's pointer: requests that started on the
 * old model finish on it, new ones use the new one. A switch is visible within one poll interval
 * plus the new model's load time.
 */
import type { Collection } from '../core/types.js'
import { fingerprint } from '../core/fingerprint.js'
import { generationProfile } from '../eval/evaluate.js'
import type { EngineContext } from '../plan/types.js'
import type { ServeListener } from './events.js'
import type { ServeMetrics } from './metrics.js'
import type { ModelPool } from './model-pool.js'
import { generationRef, type ModelRouter } from './model-router.js'

export class LiveFollower {
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> | undefined
  private stopped = false
  /** Collections whose last poll failed, so a lasting outage is reported once, not every interval. */
  private readonly failing = new Set<string>()

  constructor(
    private readonly ctx: EngineContext,
    private readonly router: ModelRouter,
    private readonly pool: ModelPool,
    private readonly intervalMs: number,
    private readonly metrics: ServeMetrics,
    private readonly onEvent: ServeListener,
  ) {}

  /** First read of every collection; a store that cannot be read or a model that cannot load fails the start. */
  async start(): Promise<void> {
    await Promise.all(Object.values(this.ctx.config.collections).map((c) => this.follow(c)))
    this.schedule()
  }

  /** Reads every collection once; errors are reported, not thrown. */
  private pollOnce(): Promise<void> {
    this.polling ??= Promise.all(Object.values(this.ctx.config.collections).map((c) => this.followReporting(c)))
      .then(() => undefined)
      .finally(() => (this.polling = undefined))
    return this.polling
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.polling
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.pollOnce().finally(() => this.schedule()), this.intervalMs)
  }

  private async followReporting(c: Collection): Promise<void> {
    try {
      await this.follow(c)
      this.failing.delete(c.name)
    } catch (e) {
      this.metrics.pollErrors.inc({ collection: c.name })
      if (!this.failing.has(c.name)) this.onEvent({ type: 'poll-error', collection: c.name, message: (e as Error).message })
      this.failing.add(c.name)
    }
  }

  private async follow(c: Collection): Promise<void> {
    const state = await (await this.ctx.adapterFor(c.store)).inspect(c)
    const live = state.generations.find((g) => g.id === state.live)
    if (!live) return this.unavailable(c, `collection "${c.name}" has no live generation yet; run \`embedform apply\` to embed it`)
    let profile
    try {
      profile = generationProfile(live, c, this.ctx.config)
    } catch (e) {
      return this.unavailable(c, (e as Error).message)
    }
    const fp = live.fingerprint ?? fingerprint(profile)
    const current = this.router.current(c.name)
    if (current?.kind === 'ready' && current.generation.id === live.id && current.fingerprint === fp) {
      this.router.refresh(c.name, live)
      return
    }
    const started = performance.now()
    const lease = await this.pool.lease(profile)
    if (this.stopped) return lease.release()
    const from = current ? generationRef(current) : null
    this.router.setLive(c.name, live, fp, lease)
    this.metrics.switches.inc({ collection: c.name })
    this.onEvent({ type: 'switch', collection: c.name, from, to: { generation: live.id, fingerprint: fp, profile: profile.name }, loadMs: Math.round(performance.now() - started) })
  }

  private unavailable(c: Collection, reason: string): void {
    const current = this.router.current(c.name)
    if (current?.kind === 'unavailable' && current.reason === reason) return
    this.router.setUnavailable(c.name, reason)
    this.onEvent({ type: 'unavailable', collection: c.name, reason })
  }
}
