#!/usr/bin/env node
// `npm run bench`: runs every benchmark in bench/ (each prints one JSON object), one after the
// other so they do not compete for the cores, and writes one report to bench/results/.
// BENCH_ONLY=migration,convergence runs a subset; every other BENCH_* variable passes through.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((name) => !only || only.has(name))
  .sort()

const report = {
  startedAt: new Date().toISOString(),
  machine: { cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version },
  loadAverageAtStart: loadavg(),
  results: {},
}
let failed = 0
for (const name of benches) {
  process.stderr.write(`bench: ${name}...\n`)
  const started = Date.now()
  const run = spawnSync('npx', ['vite-node', join(here, `${name}.ts`)], { encoding: 'utf8', env: { ...process.env, EMBEDFORM_CACHE_DIR: process.env.EMBEDFORM_CACHE_DIR ?? join(here, '..', '.cache', 'embedform') }, maxBuffer: 64 * 2 ** 20 })
  const seconds = Math.round((Date.now() - started) / 1000)
  // Each bench prints one JSON document; anything before it (tool noise) is skipped.
  const start = run.stdout.search(/^[[{]/m)
  try {
    if (run.status !== 0 || start < 0) throw new Error(`exit ${run.status}`)
    report.results[name] = { seconds, result: JSON.parse(run.stdout.slice(start)) }
  } catch (err) {
    failed++
    report.results[name] = { seconds, error: String(err), stderr: run.stderr.slice(-4000) }
  }
}
report.finishedAt = new Date().toISOString()
const out = join(here, 'results', `report-${report.startedAt.replace(/[:.]/g, '-')}.json`)
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
process.stderr.write(`bench: report written to ${out}${failed ? ` (${failed} failed)` : ''}\n`)
process.exit(failed ? 1 : 0)
