import type { z } from 'zod'

/** A JSON value, as a persisted position holds. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * Where a walk stands: what to send for the next page. Opaque to the engine, owned by its
 * paginator, persisted in `_thena_state` as JSON; undefined is the first page. The built-in
 * cursor and page paginators keep the shapes earlier versions stored (`{cursor}`, `{page}`).
 */
export type PagePosition = Readonly<Record<string, JsonValue>>

/** What a paginator adds to the request for one page. */
export interface PageRequest {
  /** Query parameters. Default none. */
  readonly query?: Readonly<Record<string, string>>
  /** Fields merged into the JSON body (POST resources). Default none. */
  readonly body?: Readonly<Record<string, JsonValue>>
  /**
   * A URL that replaces the resource's path and query (a next link): absolute, or relative to
   * the base URL. Default none.
   */
  readonly url?: string
}

/** What a paginator reads from a page to find the next one. */
export interface PageResponse {
  /** The parsed JSON body. */
  readonly body: unknown
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** How many records the page held (at the resource's records path). */
  readonly records: number
}

/**
 * A way of paging, configured for one resource: pure functions of (position, response), but for
 * what a paginator may learn of the server across walks (the page paginator's `learnPageSize`).
 */
export interface Paginator {
  /** The registered type, e.g. `cursor`, for logs and `status`. */
  readonly type: string
  /** What to send for the page at `at` (undefined = the first page). */
  request(at: PagePosition | undefined): PageRequest
  /**
   * The position of the page after the one fetched at `at`, or undefined when it was the last.
   * Throws `pagination_loop` when the API would make the walk go round forever.
   */
  next(at: PagePosition | undefined, page: PageResponse): PagePosition | undefined
  /**
   * Whether a stored position can move when the source deletes records before it (page
   * numbers and offsets do; a keyset cursor does not). A walk resuming at such a position
   * verifies it first, and steps back with `previous` until it is sure nothing is skipped.
   */
  readonly positionsShift: boolean
  /**
   * The page before `at` (`{ position: undefined }` is the first page); undefined when `at`
   * is the first page or positions cannot go back.
   */
  previous(
    at: PagePosition | undefined,
  ): { readonly position: PagePosition | undefined } | undefined
  /** Reads a stored position back; undefined when it is not one of this paginator's. */
  parsePosition(stored: unknown): PagePosition | undefined
  /** Why the paginator chose how to page (detection from the first response), for the log. */
  readonly detected?: string | undefined
}

/** A kind of paginator: its declaration's schema and how to build one from it. */
export interface PaginatorType<S extends z.ZodType = z.ZodType> {
  /** Name used in declarations (`{ type: 'cursor', ... }`). */
  readonly type: string
  /** Strict zod schema of the declaration, `type` included, with every default. */
  readonly schema: S
  create(config: z.output<S>, context?: PaginatorContext): Paginator
}

/**
 * What the paginators of one resolved pipeline share: what they learn of the server (the page
 * paginator's page size), by a key of the paginator type's choosing.
 */
export interface PaginatorContext {
  readonly shared: Map<string, unknown>
  /**
   * What the knowledge is about: one endpoint (the resource's name), so that what one endpoint
   * shows is never taken for another's. Default none (shared by every paginator of the map).
   */
  readonly scope?: string
}
