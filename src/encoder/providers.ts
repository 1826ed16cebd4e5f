import * as ort from 'onnxruntime-node'
import { availableParallelism } from 'node:os'
import { inputError } from '../core/errors.js'
import type { Device } from '../core/types.js'
import { openSessionThread, type SessionHandle } from './session-thread.js'

export type ProviderName = 'cpu' | 'cuda' | 'webgpu'

export const CUDA_INSTALL_HINT = 'on a machine with internet run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (needs CUDA 12 and cuDNN 9), or set `device: cpu`'

/**
 * InferenceSession options the benchmark can vary. The defaults below are the ones that won (or
 * tied, and are the simpler choice) on the measurements in docs/encoder.md.
 */
export interface SessionTuning {
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all'
  enableCpuMemArena: boolean
  executionMode: 'sequential' | 'parallel'
  interOpNumThreads: number
  /**
   * Intra-op threads spin-wait for the next parallel section instead of sleeping (ORT's
   * session.intra_op.allow_spinning). Off: alone the encoder ran as fast without it, and in a
   * backfill the spinning took the cores the database and the tokenizer needed (measured in
   * docs/encoder.md).
   */
  allowSpinning: boolean
}

export const DEFAULT_TUNING: SessionTuning = { graphOptimizationLevel: 'all', enableCpuMemArena: true, executionMode: 'sequential', interOpNumThreads: 1, allowSpinning: false }

export interface SessionSettings {
  device: Device
  threads?: number
  tuning?: Partial<SessionTuning>
  log?: (message: string) => void
  /** Profile file, so a device error can point at the key that asked for it. */
  profileFile?: string
}

export interface OpenedSession {
  session: SessionHandle
  provider: ProviderName
}

/** Default intra-op threads: every core, since the encoder is the hot loop of a backfill. */
export function defaultThreads(): number {
  return availableParallelism()
}

function cudaDeviceId(device: Device): number {
  const m = /^cuda:(\d+)$/.exec(device)
  return m ? Number(m[1]) : 0
}

function cudaBackendInstalled(): boolean {
  return ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled)
}

async function create(onnxPath: string, provider: ort.InferenceSession.ExecutionProviderConfig, threads: number, tuning: SessionTuning): Promise<SessionHandle> {
  return openSessionThread(onnxPath, {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: tuning.interOpNumThreads,
    graphOptimizationLevel: tuning.graphOptimizationLevel,
    enableCpuMemArena: tuning.enableCpuMemArena,
    executionMode: tuning.executionMode,
    extra: { session: { intra_op: { allow_spinning: tuning.allowSpinning ? '1' : '0' } } },
  })
}

/**
 * Opens an ONNX session on the device the profile asks for. `auto` means CUDA when its provider
 * loads, else CPU — and says which, because throughput differs by orders of magnitude.
 */
export async function openSession(onnxPath: string, s: SessionSettings): Promise<OpenedSession> {
  const threads = s.threads ?? defaultThreads()
  const tuning = { ...DEFAULT_TUNING, ...s.tuning }
  const where = { file: s.profileFile, path: 'device' }
  const openCpu = async (): Promise<OpenedSession> => {
    try {
      return { session: await create(onnxPath, 'cpu', threads, tuning), provider: 'cpu' }
    } catch (cause) {
      throw inputError('E_MODEL_LOAD', `cannot load ONNX model ${onnxPath}: ${(cause as Error).message}`, { location: { file: onnxPath }, cause })
    }
  }
  if (s.device === 'cpu') return openCpu()

  if (s.device === 'webgpu') {
    try {
      return { session: await create(onnxPath, 'webgpu', threads, tuning), provider: 'webgpu' }
    } catch (cause) {
      throw inputError('E_WEBGPU_UNAVAILABLE', `the WebGPU execution provider failed to start: ${(cause as Error).message}`, {
        location: where,
        hint: 'WebGPU needs a GPU with a Vulkan/Metal/D3D12 driver visible to this process; use `device: cpu` or `device: cuda` instead',
        cause,
      })
    }
  }

  const deviceId = cudaDeviceId(s.device)
  if (cudaBackendInstalled()) {
    try {
      const session = await create(onnxPath, { name: 'cuda', deviceId }, threads, tuning)
      if (s.device === 'auto') s.log?.(`device auto: using CUDA (device ${deviceId})`)
      return { session, provider: 'cuda' }
    } catch (cause) {
      if (s.device !== 'auto') {
        throw inputError('E_CUDA_UNAVAILABLE', `the CUDA execution provider failed to start on device ${deviceId}: ${(cause as Error).message}`, {
          location: where,
          hint: CUDA_INSTALL_HINT,
          cause,
        })
      }
      s.log?.(`device auto: CUDA failed to start (${(cause as Error).message.split('\n')[0]}); using CPU with ${threads} threads`)
    }
  } else if (s.device === 'auto') {
    s.log?.(`device auto: the CUDA provider is not installed; using CPU with ${threads} threads`)
  } else {
    throw inputError('E_CUDA_UNAVAILABLE', `device ${s.device} was requested but onnxruntime-node has no CUDA provider installed`, {
      location: where,
      hint: CUDA_INSTALL_HINT,
    })
  }
  return openCpu()
}
