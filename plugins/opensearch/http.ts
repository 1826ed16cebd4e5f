import { Client } from '@opensearch-project/opensearch'
import { failure } from '../../src/core/errors.js'
import type { OpenSearchStore } from './settings.js'
import { redact } from '../../src/util/redact.js'

export type Json = Record<string, any>

export interface OsResponse<T = Json> {
  status: number
  body: T
}

export interface OsRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'
  path: string
  body?: Json
  /** ndjson lines for `_bulk`. */
  lines?: Json[]
  query?: Record<string, string | number | boolean>
  /** Statuses that are answers, not errors (404 on exists/get, 409 on op_type=create). */
  accept?: number[]
}

/**
 * The one place that talks to the cluster. The client's transport keeps auth, TLS and
 * connection handling; every call site gets `{ status, body }` and errors as EmbedformError
 * naming the object and the server's own reason.
 */
export class OsHttp {
  constructor(
    private readonly client: Client,
    private readonly node: string,
  ) {}

  static fromStore(store: OpenSearchStore): OsHttp {
    const client = new Client({
      node: store.node,
      ...(store.username ? { auth: { username: store.username, password: store.password ?? '' } } : {}),
      ...(store.insecure ? { ssl: { rejectUnauthorized: false } } : {}),
      // 429s are retried by the bulk writer with backoff; the transport must not hide them.
      maxRetries: 0,
      requestTimeout: 120_000,
    })
    return new OsHttp(client, store.node)
  }

  async request<T = Json>(r: OsRequest): Promise<OsResponse<T>> {
    try {
      const res = await this.client.transport.request(
        {
          method: r.method,
          path: r.path,
          ...(r.body ? { body: r.body } : {}),
          ...(r.lines ? { bulkBody: r.lines } : {}),
          ...(r.query ? { querystring: r.query } : {}),
        },
        { ignore: r.accept ?? [] },
      )
      return { status: res.statusCode ?? 200, body: res.body as T }
    } catch (e) {
      throw this.toError(r, e)
    }
  }

  private toError(r: OsRequest, e: unknown): Error {
    const err = e as { statusCode?: number; body?: Json; message?: string }
    const reason = err.body?.error?.reason ?? err.body?.error ?? err.message ?? String(e)
    const type = err.body?.error?.type
    const status = err.statusCode
    return failure(status === 429 ? 'E_STORE_BUSY' : 'E_STORE', `${r.method} ${r.path} failed${status ? ` (${status}${type ? ` ${type}` : ''})` : ''}: ${typeof reason === 'string' ? reason : JSON.stringify(reason)}`, {
      location: { object: `opensearch ${redact(this.node)}` },
      cause: e,
    })
  }

  async close(): Promise<void> {
    await this.client.close()
  }
}

export const enc = encodeURIComponent
