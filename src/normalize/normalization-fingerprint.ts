import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { z as Zod } from 'zod'
import type { SchemaContract } from './schema-contract.js'
import { packageVersion } from '../version.js'

/** What of a resource decides the rows its records become. */
export interface FingerprintedResource {
  readonly name: string
  readonly primaryKey: string
  readonly recordsPath: readonly string[]
  readonly contract: SchemaContract
  readonly schema: Zod.ZodType
  /** Whether versions are kept: turning it on reads unchanged pages once, to version them. */
  readonly history?: boolean
}

/**
 * What decides the rows a resource's records become: this package's version (its normalizer
 * and built-in schemas), the resource's zod schema, key, records path and schema contract, and
 * whether it keeps history.
 * Two equal fingerprints read equal JSON into equal rows.
 */
export function normalizationFingerprint(resource: FingerprintedResource): string {
  let schema: unknown
  try {
    // Transforms and refinements have no JSON form and count as `any`; the package version
    // still covers the built-in ones. Descriptions (an empty metadata registry) decide no row:
    // rewording one must not make the next run merge every page again.
    schema = z.toJSONSchema(resource.schema, {
      unrepresentable: 'any',
      io: 'input',
      metadata: z.registry(),
    })
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
        // Only when on: the fingerprints of resources without history stay as they were.
        ...(resource.history === true && { history: true }),
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
