/**
 * oclif's `init` hook: before any command runs, every installed oclif plugin (`embedform plugins
 * install <package>`, or `link` for a local one) may answer the custom event `embedform:stores`
 * with the store plugins it provides; they are registered exactly as `plugins:` in a config would.
 */
import type { Hook } from '@oclif/core'
import type { StorePlugin } from './plugin.js'
import { registerModule } from './registry.js'

declare module '@oclif/core' {
  interface Hooks {
    'embedform:stores': { options: Record<string, never>; return: StorePlugin | StorePlugin[] }
  }
}

const hook: Hook<'init'> = async function () {
  const { successes, failures } = await this.config.runHook('embedform:stores', {})
  for (const s of successes) registerModule({ plugins: Array.isArray(s.result) ? s.result : [s.result] }, `oclif plugin ${s.plugin.name}`)
  for (const f of failures) this.warn(`oclif plugin ${f.plugin.name} could not register its store plugins: ${f.error.message}`)
}

export default hook
