/**
 * Prometheus text exposition (format 0.0.4) for the few series the server keeps: counters,
 * histograms and gauges read at scrape time. Small enough that a client library would add more
 * than it saves.
 */

type Labels = Record<string, string>

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
  return parts.length ? `{${parts.join(',')}}` : ''
}

const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))

interface Series {
  render(): string[]
}

export class Counter implements Series {
  private values = new Map<string, { labels: Labels; value: number }>()
  constructor(
    private readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = keyOf(labels)
    const cur = this.values.get(k)
    if (cur) cur.value += by
    else this.values.set(k, { labels, value: by })
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${v.value}`)]
  }
}

export class Histogram implements Series {
  private values = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>()
  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const k = keyOf(labels)
    let cur = this.values.get(k)
    if (!cur) {
      cur = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.values.set(k, cur)
    }
    this.buckets.forEach((b, i) => {
      if (value <= b) (cur.counts[i] as number)++
    })
    cur.sum += value
    cur.count++
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const v of this.values.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...v.labels, le: String(b) })} ${v.counts[i]}`))
      out.push(`${this.name}_bucket${labelText({ ...v.labels, le: '+Inf' })} ${v.count}`)
      out.push(`${this.name}_sum${labelText(v.labels)} ${v.sum}`)
      out.push(`${this.name}_count${labelText(v.labels)} ${v.count}`)
    }
    return out
  }
}

/** A gauge whose samples are read when scraped. */
export class Gauge implements Series {
  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly read: () => { labels: Labels; value: number }[],
  ) {}

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...this.read().map((s) => `${this.name}${labelText(s.labels)} ${s.value}`)]
  }
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]
const TOKENS = [16, 64, 256, 1024, 4096, 16384, 65536]

/** Everything /metrics shows. Gauges are wired by the server, which knows the queues and collections. */
export class ServeMetrics {
  readonly requests = new Counter('embedform_serve_requests_total', 'HTTP requests answered, by route and status code.')
  readonly requestSeconds = new Histogram('embedform_serve_request_duration_seconds', 'Time from request to response, by route.', SECONDS)
  readonly batchTexts = new Histogram('embedform_serve_batch_size', 'Texts per encode call (across requests when batching).', SIZES)
  readonly batchRequests = new Histogram('embedform_serve_batch_requests', 'Requests whose texts shared one encode call.', SIZES)
  readonly encodeSeconds = new Histogram('embedform_serve_encode_seconds', 'Time of one encode call.', SECONDS)
  readonly tokens = new Counter('embedform_serve_tokens_total', 'Tokens encoded (prefixes and special tokens included), by input type.')
  readonly texts = new Counter('embedform_serve_texts_total', 'Texts encoded, by input type.')
  readonly rejected = new Counter('embedform_serve_rejected_total', 'Requests refused before any work, by reason.')
  readonly switches = new Counter('embedform_serve_generation_switches_total', 'Models a collection switched to, the first one at start included.')
  readonly pollErrors = new Counter('embedform_serve_poll_errors_total', 'Failed reads of a collection\'s live state.')
  private readonly gauges: Gauge[] = []

  gauge(name: string, help: string, read: () => { labels: Labels; value: number }[]): void {
    this.gauges.push(new Gauge(name, help, read))
  }

  render(): string {
    const series: Series[] = [
      this.requests,
      this.requestSeconds,
      this.batchTexts,
      this.batchRequests,
      this.encodeSeconds,
      this.tokens,
      this.texts,
      this.rejected,
      this.switches,
      this.pollErrors,
      ...this.gauges,
    ]
    return `${series.flatMap((s) => s.render()).join('\n')}\n`
  }
}
