import { describe, expect, it } from 'vitest'
import { isSecretKey, redact, redactSourced, redactString, redactUrl } from '../../../src/util/redact.js'

describe('redact', () => {
  it('masks the password of a URL, also when it holds an unencoded @', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/prod')).toBe('postgres://app:****@db:5432/prod')
    expect(redactUrl('postgres://app:p@ss@db/prod')).toBe('postgres://app:****@db/prod')
    expect(redactUrl('postgres://db/prod')).toBe('postgres://db/prod')
  })

  it('masks password query parameters, sslpassword included', () => {
    expect(redactUrl('postgres://db/prod?user=app&password=s3cret&sslmode=require')).toBe('postgres://db/prod?user=app&password=****&sslmode=require')
    expect(redactUrl('postgres://db/prod?sslpassword=keypass')).toBe('postgres://db/prod?sslpassword=****')
    expect(redactUrl('https://os:9200/?api_key=abc123')).toBe('https://os:9200/?api_key=****')
  })

  it('masks libpq keyword/value passwords', () => {
    expect(redactString("host=db user=app password=s3cret dbname=prod")).toBe('host=db user=app password=**** dbname=prod')
    expect(redactString("host=db sslpassword='a b c' dbname=prod")).toBe("host=db sslpassword=**** dbname=prod")
  })

  it('masks values under secret keys but not max_tokens or tokenizer', () => {
    expect(isSecretKey('password')).toBe(true)
    expect(isSecretKey('sslpassword')).toBe(true)
    expect(isSecretKey('accessToken')).toBe(true)
    expect(isSecretKey('api_key')).toBe(true)
    expect(isSecretKey('max_tokens')).toBe(false)
    expect(isSecretKey('maxTokens')).toBe(false)
    expect(isSecretKey('tokenizer')).toBe(false)
    expect(redact({ password: 'x1', maxTokens: 256, reranker: { maxTokens: 512 } }, { env: {} })).toEqual({ password: '****', maxTokens: 256, reranker: { maxTokens: 512 } })
  })

  it('masks the values of secret-named environment variables wherever they were expanded', () => {
    const env = { DB_PASSWORD: 'hunter22', HOME: '/home/x' }
    expect(redact({ node: 'https://admin@os.internal/hunter22/x' }, { env })).toEqual({ node: 'https://admin@os.internal/****/x' })
    expect(redact({ home: '/home/x' }, { env })).toEqual({ home: '/home/x' })
  })

  it('masks a resolved value that came from a secret-named variable, whatever its key', () => {
    expect(redactSourced({ path: 'stores.os.username', value: 'admin', source: 'file:embedding.config.yaml:4 (${env:OS_USER,OS_TOKEN})' }, {}).value).toBe('****')
    expect(redactSourced({ path: 'stores.pg.url', value: 'postgres://a:b@h/d', source: 'env:DATABASE_URL' }, {}).value).toBe('postgres://a:****@h/d')
    expect(redactSourced({ path: 'profiles.starter.max_tokens', value: 256, source: 'default' }, {}).value).toBe(256)
  })
})
