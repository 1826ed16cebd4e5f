/**
 * An ONNX Runtime session on its own thread. onnxruntime-node's `session.run` is synchronous
 * under its Promise: inference holds the JS thread for the whole batch, so while a backfill
 * encodes, every store round trip of the write running beside it waits for the batch to end
 * (measured: 1,000-row writes 1.3–2.5 s during a bert-tiny backfill against ~0.1 s alone, the
 * backfill slower than the encoder by itself). On a worker thread inference overlaps the writes
 * as the pipeline intends.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

export interface TensorData {
  type: string
  data: BigInt64Array | Float32Array | Int32Array
  dims: readonly number[]
}

export interface SessionHandle {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  run(feeds: Record<string, TensorData>, fetches: string[]): Promise<Record<string, TensorData>>
  release(): Promise<void>
}

/** What `ort.InferenceSession.create` takes after the file: plain data, cloned to the thread. */
export type SessionCreateOptions = Record<string, unknown>

// CommonJS source: a worker given as a string runs as a script, and onnxruntime-node is loaded
// from the path the parent resolved, so the thread finds the same build wherever the process runs.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const ort = require(workerData.ort)
let session
const fail = (id, err) => parentPort.postMessage({ id, error: String((err && err.message) || err) })
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'create') {
      session = await ort.InferenceSession.create(m.path, m.options)
      parentPort.postMessage({ id: m.id, inputNames: session.inputNames, outputNames: session.outputNames })
    } else if (m.op === 'run') {
      const feeds = {}
      for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims)
      const result = await session.run(feeds, m.fetches)
      const out = {}
      const transfer = []
      for (const [name, t] of Object.entries(result)) {
        out[name] = { type: t.type, data: t.data, dims: t.dims }
        if (t.data && t.data.buffer) transfer.push(t.data.buffer)
      }
      parentPort.postMessage({ id: m.id, result: out }, transfer)
    } else if (m.op === 'release') {
      if (session) await session.release()
      parentPort.postMessage({ id: m.id })
    }
  } catch (err) {
    fail(m.id, err)
  }
})
`

const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node')

export async function openSessionThread(path: string, options: SessionCreateOptions): Promise<SessionHandle> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ort: ortPath } })
  // Only calls in flight keep the process alive: an encoder nobody closed must not hang exit.
  worker.unref()
  let nextId = 0
  const waiting = new Map<number, { resolve: (m: Reply) => void; reject: (e: Error) => void }>()
  const rejectAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err)
    waiting.clear()
  }
  worker.on('message', (m: Reply) => {
    const w = waiting.get(m.id)
    if (!w) return
    waiting.delete(m.id)
    if (waiting.size === 0) worker.unref()
    if (m.error !== undefined) w.reject(new Error(m.error))
    else w.resolve(m)
  })
  worker.on('error', rejectAll)
  worker.on('exit', (code) => rejectAll(new Error(`the ONNX Runtime thread exited (code ${code})`)))
  const call = (message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve, reject })
      worker.ref()
      worker.postMessage({ ...message, id }, transfer)
    })

  let created: Reply
  try {
    created = await call({ op: 'create', path, options })
  } catch (err) {
    await worker.terminate()
    throw err
  }
  return {
    inputNames: created.inputNames ?? [],
    outputNames: created.outputNames ?? [],
    async run(feeds, fetches) {
      return (await call({ op: 'run', feeds, fetches })).result ?? {}
    },
    async release() {
      try {
        await call({ op: 'release' })
      } finally {
        await worker.terminate()
      }
    },
  }
}

interface Reply {
  id: number
  error?: string
  inputNames?: string[]
  outputNames?: string[]
  result?: Record<string, TensorData>
}
