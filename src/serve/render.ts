/** Human lines for what the server reports (the --json form is the event itself). */
import type { GenerationRef, ServeEvent } from './events.js'

function ref(r: GenerationRef): string {
  return `g${r.generation} (profile ${r.profile}, fingerprint ${r.fingerprint})`
}

export function renderServeEvent(e: ServeEvent): string {
  switch (e.type) {
    case 'listening': {
      const lines = [`embedform serve listening on ${e.url}`]
      for (const c of e.collections) lines.push(`  model "${c.collection}": ${c.live ? ref(c.live) : `unavailable: ${c.reason ?? 'no live generation'}`}`)
      lines.push(
        `  cross-request batching ${e.batching ? 'on' : 'off'} · live state polled every ${e.pollIntervalMs / 1000} s · ${e.auth ? 'bearer token required' : 'no auth'}`,
        `  POST ${e.url}/v1/embeddings · /v1/rerank · /v1/collections/{name}/search · GET /health · /metrics`,
      )
      return lines.join('\n')
    }
    case 'switch':
      return e.from
        ? `collection "${e.collection}": live generation changed ${ref(e.from)} → ${ref(e.to)}; new model loaded in ${e.loadMs} ms, requests in flight finish on the old one`
        : `collection "${e.collection}": encoding with ${ref(e.to)} (loaded in ${e.loadMs} ms)`
    case 'unavailable':
      return `collection "${e.collection}" unavailable: ${e.reason}`
    case 'poll-error':
      return `collection "${e.collection}": cannot read its live state (${e.message}); still serving the last known generation, retrying every poll`
    case 'stopping':
      return `${e.signal}: finishing requests in flight, then stopping`
    case 'stopped':
      return 'stopped'
  }
}
