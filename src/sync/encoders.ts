/**
 * Encoders for the generations a sync keeps fresh, opened once each from the profile stored with
 * the generation (so a profile edited since never mixes models into it) and closed together.
 */
import { failure } from '../core/errors.js'
import type { Collection } from '../core/types.js'
import type { Encoder } from '../encoder/types.js'
import type { EngineContext } from '../plan/types.js'
import type { GenerationState } from '../store/adapter.js'

export class GenerationEncoders {
  private readonly open = new Map<string, Promise<Encoder>>()

  constructor(private readonly ctx: EngineContext) {}

  /** The generation's encoder, or an error saying why it has none (adopted: unknown model). */
  get(c: Collection, g: GenerationState): Promise<Encoder> {
    const snapshot = g.profileSnapshot
    if (!snapshot) {
      return Promise.reject(
        failure('E_SYNC_UNKNOWN_MODEL', `g${g.id} of ${c.name} was adopted from vectors embedform did not make, so it cannot embed rows the same way`, {
          location: { object: `generation g${g.id} of ${c.target}` },
          hint: `\`embedform apply\` moves ${c.name} to a generation of a configured profile; sync keeps that one fresh`,
        }),
      )
    }
    const id = `${g.id}\u0000${g.fingerprint ?? ''}`
    let enc = this.open.get(id)
    if (!enc) {
      enc = this.ctx.openEncoder(snapshot, this.ctx.encoderOptions)
      this.open.set(id, enc)
      enc.catch(() => this.open.delete(id))
    }
    return enc
  }

  async close(): Promise<void> {
    const all = [...this.open.values()]
    this.open.clear()
    await Promise.allSettled(all.map(async (e) => (await e).close()))
  }
}
