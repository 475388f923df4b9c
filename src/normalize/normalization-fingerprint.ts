import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { ResolvedResource } from '../config/resolve-pipeline.js'
import { packageVersion } from '../version.js'

/**
 * What decides the rows a resource's records become: this package's version (its normalizer
 * and built-in schemas), the resource's zod schema, key, records path and schema contract.
 * Two equal fingerprints read equal JSON into equal rows.
 */
export function normalizationFingerprint(resource: ResolvedResource): string {
  let schema: unknown
  try {
    // Transforms and refinements have no JSON form and count as `any`; the package version
    // still covers the built-in ones.
    schema = z.toJSONSchema(resource.schema, { unrepresentable: 'any', io: 'input' })
  } catch {
    schema = null
  }
  return createHash('sha1')
    .update(
      JSON.stringify({
        version: packageVersion(),
        name: resource.name,
        primaryKey: resource.primaryKey,
        recordsPath: resource.recordsPath,
        contract: resource.contract,
        schema,
      }),
    )
    .digest('base64url')
}

/**
 * Digest of a page: its response text as read under a normalization fingerprint. Equal digests
 * mean the same bytes, normalized the same way.
 */
export const pageDigest = (fingerprint: string, text: string): string =>
  createHash('sha1').update(fingerprint).update(text).digest('base64url')
