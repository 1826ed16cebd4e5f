/** What the server reports while it runs: one JSON line each with --json, one human line otherwise. */

export interface GenerationRef {
  generation: number
  fingerprint: string
  profile: string
}

export type ServeEvent =
  | { type: 'listening'; url: string; batching: boolean; pollIntervalMs: number; auth: boolean; collections: { collection: string; live: GenerationRef | null; reason?: string }[] }
  | { type: 'switch'; collection: string; from: GenerationRef | null; to: GenerationRef; loadMs: number }
  | { type: 'unavailable'; collection: string; reason: string }
  | { type: 'poll-error'; collection: string; message: string }
  | { type: 'stopping'; signal: string }
  | { type: 'stopped' }

export type ServeListener = (e: ServeEvent) => void
