import { describe, expect, it } from 'vitest'
import { hfCacheDir, hfFileUrl, parseHfSource } from '../../../src/encoder/hf-source.js'
import { isOffline } from '../../../src/encoder/hf-download.js'

describe('hf: sources', () => {
  it('parses owner, name and revision (default main)', () => {
    expect(parseHfSource('hf:BAAI/bge-small-en-v1.5')).toEqual({ owner: 'BAAI', name: 'bge-small-en-v1.5', revision: 'main' })
    expect(parseHfSource('hf:Xenova/all-MiniLM-L6-v2@5b1a2c')).toEqual({ owner: 'Xenova', name: 'all-MiniLM-L6-v2', revision: '5b1a2c' })
  })

  it('rejects malformed sources with the profile location', () => {
    for (const bad of ['hf:onlyname', 'hf:a/b/c', 'hf:a/b@', 'hf:../x/y', 'hf:a/b@../../etc']) {
      expect(() => parseHfSource(bad, { file: 'profiles/p.yaml', path: 'model.source' })).toThrowError(
        expect.objectContaining({ code: 'E_MODEL_SOURCE', location: { file: 'profiles/p.yaml', path: 'model.source' } }),
      )
    }
  })

  it('builds the Hub resolve URL under HF_ENDPOINT', () => {
    const ref = parseHfSource('hf:BAAI/bge-small-en-v1.5@v1')
    expect(hfFileUrl(ref, 'onnx/model.onnx', {})).toBe('https://huggingface.co/BAAI/bge-small-en-v1.5/resolve/v1/onnx/model.onnx')
    expect(hfFileUrl(ref, 'tokenizer.json', { HF_ENDPOINT: 'http://mirror:8080/' })).toBe('http://mirror:8080/BAAI/bge-small-en-v1.5/resolve/v1/tokenizer.json')
  })

  it('caches under <cache>/models/hf/<owner>--<name>/<rev>', () => {
    expect(hfCacheDir(parseHfSource('hf:BAAI/bge@r1'), { EMBEDFORM_CACHE_DIR: '/c' })).toBe('/c/models/hf/BAAI--bge/r1')
  })

  it('offline from the flag or HF_HUB_OFFLINE', () => {
    expect(isOffline({ env: {} })).toBe(false)
    expect(isOffline({ env: { HF_HUB_OFFLINE: '1' } })).toBe(true)
    expect(isOffline({ env: { HF_HUB_OFFLINE: '0' } })).toBe(false)
    expect(isOffline({ env: {}, offline: true })).toBe(true)
  })
})
