/**
 * The `lint:` section of embedding.config.yaml, already checked by the config schema when the
 * configuration loaded; read here with its positions so findings can point at lines.
 */
import type { Config } from '../core/types.js'
import { readYamlFile, type YamlFile } from '../config/yaml-file.js'
import { DEFAULT_REEMBED_THRESHOLD, type LintSettings, type RuleName, type SeveritySetting } from './rules.js'

interface RawLint {
  rules?: Partial<Record<RuleName, SeveritySetting>>
  reembed_threshold?: number
  ignore?: Record<string, string[]>
}

export async function readLintSettings(config: Config): Promise<{ settings: LintSettings; file: YamlFile }> {
  const file = await readYamlFile(config.file, 'E_CONFIG_MISSING')
  const raw = ((file.data as { lint?: RawLint } | null)?.lint ?? {}) as RawLint
  return {
    settings: { severity: raw.rules ?? {}, reembedThreshold: raw.reembed_threshold ?? DEFAULT_REEMBED_THRESHOLD, ignore: raw.ignore ?? {} },
    file,
  }
}
