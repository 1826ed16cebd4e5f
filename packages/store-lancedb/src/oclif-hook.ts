import type { StorePlugin } from 'embedform/plugin'
import { plugin } from './index.js'

/** Answers embedform's `embedform:stores` hook when installed with `embedform plugins install`. */
export default async function stores(): Promise<StorePlugin[]> {
  return [plugin]
}
