export { fakeVector } from '../../src/testing/index.js'
