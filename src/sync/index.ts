export { sync } from './run.js'
export { watch, type WatchHooks, type WatchSummary } from './watch.js'
export type * from './types.js'
