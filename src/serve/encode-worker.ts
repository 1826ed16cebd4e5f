/**
 * Worker thread entry: one profile's encoder, off the server's event loop. onnxruntime-node runs
 * session.run synchronously on the thread that calls it; here that thread is this worker, so the
 * server keeps reading requests (and forming the next batch) while a batch encodes. Encode
 * messages are handled one at a time, in order: the encoder must never run two calls at once.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { isEmbedformError } from '../core/errors.js'
import { openEncoder } from '../encoder/index.js'
import type { FromWorker, ToWorker, WorkerError, WorkerInit } from './worker-protocol.js'

function flatten(e: unknown): WorkerError {
  if (isEmbedformError(e)) return { code: e.code, message: e.message, kind: e.kind, ...(e.location ? { location: e.location } : {}), ...(e.hint ? { hint: e.hint } : {}) }
  return { code: 'E_ENCODER', message: (e as Error)?.message ?? String(e), kind: 'failure' }
}

async function main(port: NonNullable<typeof parentPort>, init: WorkerInit): Promise<void> {
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer)
  let encoder
  try {
    encoder = await openEncoder(init.profile, { offline: init.offline, log: (message) => post({ type: 'log', message }) })
    post({ type: 'ready', provider: encoder.provider, modelDimensions: await encoder.modelDimensions() })
  } catch (e) {
    post({ type: 'failed', id: null, error: flatten(e) })
    return
  }
  const opened = encoder
  let queue = Promise.resolve()
  port.on('message', (m: ToWorker) => {
    queue = queue.then(async () => {
      if (m.type === 'close') {
        await opened.close()
        post({ type: 'closed' })
        port.close()
        return
      }
      try {
        const vectors = await opened.encode(m.texts, m.kind)
        // Each vector owns its buffer (pooling allocates per row); moved, not copied.
        post({ type: 'vectors', id: m.id, vectors }, [...new Set(vectors.map((v) => v.buffer as ArrayBuffer))])
      } catch (e) {
        post({ type: 'failed', id: m.id, error: flatten(e) })
      }
    })
  })
}

if (parentPort) void main(parentPort, workerData as WorkerInit)
