/** Progress events: the engine emits them, the CLI renders bars or JSON lines. */
export type ProgressEvent =
  | { type: 'step-start'; step: string; title: string; total?: number }
  | { type: 'progress'; step: string; done: number; total?: number }
  | { type: 'step-end'; step: string; ms: number; detail?: Record<string, unknown> }
  | { type: 'log'; level: 'info' | 'warn'; message: string }

export type ProgressListener = (e: ProgressEvent) => void
