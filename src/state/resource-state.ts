import { z } from 'zod'

/** Version of the per-resource state document; bump it with a migration when its shape changes. */
export const STATE_VERSION = 1

/**
 * What a resource remembers between runs, committed in the same transaction as the rows it
 * covers. The token or any other secret never goes in here.
 */
// Opaque to the engine: each paginator reads back its own (`{cursor}`, `{page}`, `{offset}`,
// `{url}`); documents written by earlier versions hold `{cursor}` or `{page}` and still load.
const positionSchema = z.record(z.string(), z.json())

export const resourceStateSchema = z.object({
  version: z.literal(STATE_VERSION),
  /** Where the next incremental run resumes (cursor or page); absent = from the start. */
  position: positionSchema.nullish(),
  /**
   * For positions that shift when the source deletes (page numbers): the last page committed,
   * as its first and last record ids and the creation time of its last record. The page at
   * `position` must start at or before it; a run that finds otherwise steps back first.
   */
  anchor: z.object({ ids: z.array(z.string()), createdAt: z.string().optional() }).optional(),
  /**
   * Pages holding records created within the lookback window, oldest first: where each was
   * fetched (null = the first page), the newest creation time on it, and a digest of its
   * response and of how it was normalized (absent = unknown). `run` re-reads from the first
   * one, and merges only pages whose digest changed.
   */
  lookback: z
    .array(
      z.object({
        position: positionSchema.nullable(),
        lastCreatedAt: z.string(),
        digest: z.string().optional(),
      }),
    )
    .optional(),
  /** What the resource's incremental strategy keeps besides the position (`updated_since`: `{since, seen}`). */
  incremental: z.record(z.string(), z.json()).optional(),
  /** When a `reconcile` last scanned this resource completely (ISO). */
  reconciledAt: z.string().optional(),
  /** Records loaded for this resource over all runs (repeats included). */
  records: z.number().int().min(0).default(0),
  /** When a run last committed a batch of this resource (ISO). */
  updatedAt: z.string().optional(),
  /** When a run last walked this resource to its end (ISO). */
  completedAt: z.string().optional(),
})

export type ResourceState = z.infer<typeof resourceStateSchema>
export type LookbackPage = NonNullable<ResourceState['lookback']>[number]
export type PageAnchor = NonNullable<ResourceState['anchor']>

/** Parses a stored state document; an unreadable one is treated as absent (the run starts over). */
export function parseResourceState(json: unknown): ResourceState | undefined {
  const parsed = resourceStateSchema.safeParse(typeof json === 'string' ? JSON.parse(json) : json)
  return parsed.success ? parsed.data : undefined
}
