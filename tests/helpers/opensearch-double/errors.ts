/** OpenSearch's error body shape: `{ error: { root_cause, type, reason }, status }`. */
export class OsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    reason: string,
    readonly index?: string,
  ) {
    super(reason)
  }

  body(): Record<string, unknown> {
    const cause = { type: this.type, reason: this.message, ...(this.index ? { index: this.index } : {}) }
    return { error: { root_cause: [cause], ...cause }, status: this.status }
  }
}

export const notFound = (index: string) => new OsError(404, 'index_not_found_exception', `no such index [${index}]`, index)
export const badRequest = (type: string, reason: string) => new OsError(400, type, reason)
