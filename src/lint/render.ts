/** Lint output: for people, and GitHub Actions workflow commands for annotations on a pull request. */
import { relative } from 'node:path'
import type { LintReport } from './run.js'

export function renderLintText(r: LintReport, cwd: string): string {
  const lines = r.findings.map((f) => {
    const at = f.file ? `${relative(cwd, f.file) || f.file}${f.line ? `:${f.line}` : ''}` : ''
    return `${f.severity.padEnd(7)} ${f.rule.padEnd(24)} ${f.collection ?? ''}${at ? ` (${at})` : ''}\n        ${f.message}`
  })
  const summary = `${r.counts.error} error(s), ${r.counts.warning} warning(s), ${r.counts.notice} notice(s)`
  return [...lines, ...r.notes.map((n) => `note: ${n}`), r.findings.length === 0 ? `No findings. ${summary}` : summary].join('\n') + '\n'
}

/** Workflow-command values escape %, CR and LF; properties also escape : and ,. */
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C')

export function renderLintGithub(r: LintReport, cwd: string): string {
  return r.findings
    .map((f) => {
      const props = [
        ...(f.file ? [`file=${escapeProperty(relative(cwd, f.file) || f.file)}`] : []),
        ...(f.line ? [`line=${f.line}`] : []),
        `title=${escapeProperty(`embedform lint ${f.rule}`)}`,
      ]
      return `::${f.severity} ${props.join(',')}::${escapeData(`${f.collection ? `${f.collection}: ` : ''}${f.message}`)}`
    })
    .join('\n')
    .concat(r.findings.length > 0 ? '\n' : '')
}
