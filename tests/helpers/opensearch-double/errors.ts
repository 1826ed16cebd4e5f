/** OpenSearch's error body shape: `{ error: { root_cause, type, reason }, status }`. */
export class OsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    reason: string,
    readonly index?: string,
    /** Shard-level causes of a search failure (search_phase_execution_exception). */
    readonly causes?: Record<string, unknown>[],
    /** What the error wraps (`caused_by`), e.g. the IllegalArgumentException behind a parse failure. */
    readonly causedBy?: Record<string, unknown>,
  ) {
    super(reason)
  }

  body(): Record<string, unknown> {
    const own = { type: this.type, reason: this.message, ...(this.index ? { index: this.index } : {}) }
    if (this.causes) {
      return { error: { root_cause: this.causes, ...own, phase: 'query', grouped: true, failed_shards: this.causes.map((c) => ({ shard: 0, index: c.index, reason: c })) }, status: this.status }
    }
    return { error: { root_cause: [own], ...own, ...(this.causedBy ? { caused_by: this.causedBy } : {}) }, status: this.status }
  }
}

export const notFound = (index: string) => new OsError(404, 'index_not_found_exception', `no such index [${index}]`, index)
export const badRequest = (type: string, reason: string) => new OsError(400, type, reason)
export const validationFailed = (...errors: string[]) => badRequest('action_request_validation_exception', `Validation Failed: ${errors.map((e, i) => `${i + 1}: ${e};`).join('')}`)
