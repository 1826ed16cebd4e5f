import { createRequire } from 'node:module'
import type * as Arrow from 'apache-arrow'

/**
 * @lancedb/lancedb is CommonJS and checks `instanceof Field` against the CommonJS build of
 * apache-arrow; the ES build's classes are different objects. Load the same build it does.
 */
export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow
export { makeArrowTable } from '@lancedb/lancedb'
