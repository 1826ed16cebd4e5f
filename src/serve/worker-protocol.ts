/** Messages between the server and the worker thread that runs one profile's encoder. */
import type { ErrorLocation, ErrorKind } from '../core/errors.js'
import type { Profile } from '../core/types.js'
import type { TextKind } from '../encoder/types.js'

export interface WorkerInit {
  profile: Profile
  offline: boolean
}

export type ToWorker = { type: 'encode'; id: number; texts: string[]; kind: TextKind } | { type: 'close' }

/** An EmbedformError (or any error) flattened for postMessage; rebuilt on the other side. */
export interface WorkerError {
  code: string
  message: string
  kind: ErrorKind
  location?: ErrorLocation
  hint?: string
}

export type FromWorker =
  | { type: 'ready'; provider: string; modelDimensions: number }
  | { type: 'log'; message: string }
  | { type: 'vectors'; id: number; vectors: Float32Array[] }
  | { type: 'failed'; id: number | null; error: WorkerError }
  | { type: 'closed' }
