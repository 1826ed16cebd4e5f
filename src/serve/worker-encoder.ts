/**
 * An Encoder whose model runs in a worker thread (see encode-worker.ts), so encoding never blocks
 * the server's event loop. `embedform serve` opens every model this way.
 */
import { Worker } from 'node:worker_threads'
import { EmbedformError, failure } from '../core/errors.js'
import type { Profile } from '../core/types.js'
import type { Encoder, EncoderOptions, TextKind } from '../encoder/types.js'
import type { FromWorker, ToWorker, WorkerError, WorkerInit } from './worker-protocol.js'

const WORKER_SCRIPT = new URL('./encode-worker.js', import.meta.url)

const rebuild = (e: WorkerError) => new EmbedformError({ ...e })

interface Pending {
  resolve(vectors: Float32Array[]): void
  reject(e: unknown): void
}

export class WorkerEncoder implements Encoder {
  private nextId = 0
  private readonly pending = new Map<number, Pending>()
  private dead: EmbedformError | undefined
  private closing: Promise<void> | undefined

  private constructor(
    private readonly worker: Worker,
    profileName: string,
    readonly dimensions: number,
    readonly provider: string,
    private readonly width: number,
  ) {
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'vectors' && m.type !== 'failed') return
      if (m.id === null) return
      const p = this.pending.get(m.id)
      this.pending.delete(m.id)
      if (m.type === 'vectors') p?.resolve(m.vectors)
      else p?.reject(rebuild(m.error))
    })
    const die = (why: string) => {
      this.dead ??= failure('E_ENCODER_WORKER', `the encoder thread of profile ${profileName} stopped: ${why}`)
      for (const p of this.pending.values()) p.reject(this.dead)
      this.pending.clear()
    }
    worker.on('error', (e) => die(e.message))
    worker.on('exit', (code) => die(`exit code ${code}`))
  }

  static open(profile: Profile, opts: EncoderOptions = {}): Promise<WorkerEncoder> {
    const init: WorkerInit = { profile, offline: opts.offline ?? false }
    const worker = new Worker(WORKER_SCRIPT, { workerData: init })
    return new Promise<WorkerEncoder>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === 'log') opts.log?.(m.message)
        else if (m.type === 'ready') {
          cleanup()
          worker.on('message', (later: FromWorker) => {
            if (later.type === 'log') opts.log?.(later.message)
          })
          resolve(new WorkerEncoder(worker, profile.name, profile.dimensions, m.provider, m.modelDimensions))
        } else if (m.type === 'failed' && m.id === null) {
          cleanup()
          void worker.terminate()
          reject(rebuild(m.error))
        }
      }
      const onError = (e: Error) => (cleanup(), reject(failure('E_ENCODER_WORKER', `cannot start the encoder thread for profile ${profile.name}: ${e.message}`)))
      const cleanup = () => {
        worker.off('message', onMessage)
        worker.off('error', onError)
      }
      worker.on('message', onMessage)
      worker.on('error', onError)
    })
  }

  /** Width of the model's pooled output (before the profile's Matryoshka cut). */
  async modelDimensions(): Promise<number> {
    return this.width
  }

  encode(texts: string[], kind: TextKind): Promise<Float32Array[]> {
    if (this.dead) return Promise.reject(this.dead)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ type: 'encode', id, texts, kind } satisfies ToWorker)
    })
  }

  async *encodeStream<T extends { text: string }>(batches: AsyncIterable<T[]>, kind: TextKind): AsyncIterable<{ items: T[]; vectors: Float32Array[] }> {
    for await (const items of batches) yield { items, vectors: await this.encode(items.map((i) => i.text), kind) }
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.dead) return resolve()
      this.worker.once('exit', () => resolve())
      this.worker.postMessage({ type: 'close' } satisfies ToWorker)
    })
    return this.closing
  }
}

export const openWorkerEncoder = (profile: Profile, opts?: EncoderOptions): Promise<Encoder> => WorkerEncoder.open(profile, opts)
