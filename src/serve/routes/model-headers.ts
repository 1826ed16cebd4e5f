import type { FastifyReply } from 'fastify'
import type { Route } from '../model-router.js'

/**
 * Which model answered: clients compare x-embedform-fingerprint (or the generation) between
 * responses to notice a cutover, and must not mix vectors of two fingerprints in one index.
 */
export function setModelHeaders(reply: FastifyReply, route: Route): void {
  reply.header('x-embedform-profile', route.slot.profile.name)
  reply.header('x-embedform-fingerprint', route.fingerprint)
  if (route.collection !== undefined) reply.header('x-embedform-collection', route.collection)
  if (route.generation !== undefined) reply.header('x-embedform-generation', `g${route.generation.id}`)
}
