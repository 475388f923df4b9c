import type { Server } from 'node:http'
import { z } from 'zod'

/** A share of requests, 0 to 1. */
export const rateSchema = z.number().min(0).max(1)

/** What a stand-in's fixed-window rate limit defaults to (the API's documented tier). */
export interface RateLimitDefaults {
  readonly limit: number
  readonly windowMs: number
  /** Whether the API is documented to send `X-RateLimit-*` headers. */
  readonly headers: boolean
}

/**
 * A stand-in's rate limit, per key and fixed window aligned to the epoch, or `false` for none;
 * defaults are the API's (`limit`, `windowMs`, `headers`), `Retry-After` off (undocumented).
 */
export const rateLimitOptionsSchema = (defaults: RateLimitDefaults) => {
  const schema = z.strictObject({
    /** Requests allowed per window and key. */
    limit: z.number().int().min(1).default(defaults.limit),
    /** Window length in ms; windows are aligned to the epoch. */
    windowMs: z.number().int().min(100).default(defaults.windowMs),
    /** Send `X-RateLimit-Limit/Remaining/Reset` on every authenticated answer. */
    headers: z.boolean().default(defaults.headers),
    /** Send `Retry-After` (seconds) with a 429. Default false. */
    retryAfter: z.boolean().default(false),
  })
  return z.union([z.literal(false), schema]).default(schema.parse({}))
}

/** The faults a stand-in injects, each a share of requests (default none), and latency. */
export const faultOptionsSchema = z
  .strictObject({
    /** Share of answers replaced by a 500 or 503 with the API's error body. Default 0. */
    serverError: rateSchema.default(0),
    /** Share of answers replaced by a 200 whose body is an HTML page (a proxy's). Default 0. */
    htmlOk: rateSchema.default(0),
    /** Share of 200 answers whose JSON is cut in half. Default 0. */
    truncated: rateSchema.default(0),
    /** Share of requests whose connection is destroyed before any answer. Default 0. */
    drop: rateSchema.default(0),
    /** Milliseconds added to every answer (not counted as a fault). Default 0. */
    latencyMs: z.number().int().min(0).default(0),
  })
  .default({ serverError: 0, htmlOk: 0, truncated: 0, drop: 0, latencyMs: 0 })

/** Stops a stand-in's server: open keep-alive connections are closed, not waited for. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
