import type { JsonPath } from '../../core/json-path.js'
import { detectPaginator } from './detect-paginator.js'
import { createPaginator } from './paginator-registry.js'
import type { JsonValue, PagePosition, Paginator } from './paginator.js'

interface Inner {
  readonly declaration: { [key: string]: JsonValue }
  readonly paginator: Paginator
  readonly position: PagePosition | undefined
}

/**
 * The paginator of a resource that declares none: the first response decides
 * (`detectPaginator`), and each position carries the declaration chosen, so that a run
 * resuming from a stored position pages the same way. `detected` holds the reason of the last
 * choice, for the log.
 */
export class AutoPaginator implements Paginator {
  readonly type = 'auto'
  /** The paginator last detected or read back from a position (positions shift with it). */
  #last: Paginator | undefined
  /** Why the last detection chose what it chose; undefined before the first page. */
  detected: string | undefined
  readonly #recordsPath: JsonPath
  readonly #field: string

  constructor(recordsPath: JsonPath, field: string) {
    this.#recordsPath = recordsPath
    this.#field = field
  }

  /** Whether positions shift on deletes: as the paginator chosen (offsets and pages do). */
  get positionsShift(): boolean {
    return this.#last?.positionsShift ?? false
  }

  request(at: PagePosition | undefined) {
    const inner = this.#inner(at)
    return inner ? inner.paginator.request(inner.position) : {}
  }

  next(at: PagePosition | undefined, page: Parameters<Paginator['next']>[1]) {
    let inner: Inner | undefined = this.#inner(at)
    if (!inner) {
      const { declaration, reason } = detectPaginator(page, this.#recordsPath)
      this.detected = reason
      inner = {
        declaration: declaration as unknown as { [key: string]: JsonValue },
        paginator: createPaginator(declaration, this.#field),
        position: undefined,
      }
    }
    this.#last = inner.paginator
    const next = inner.paginator.next(inner.position, page)
    return next === undefined ? undefined : { auto: inner.declaration, position: next }
  }

  previous(at: PagePosition | undefined) {
    const inner = this.#inner(at)
    const back = inner?.paginator.previous(inner.position)
    if (!inner || !back) return undefined
    return {
      position:
        back.position === undefined
          ? undefined
          : { auto: inner.declaration, position: back.position },
    }
  }

  parsePosition(stored: unknown): PagePosition | undefined {
    return this.#inner(stored as PagePosition) ? (stored as PagePosition) : undefined
  }

  #inner(at: PagePosition | undefined): Inner | undefined {
    const declaration = at?.auto
    if (!declaration || typeof declaration !== 'object' || Array.isArray(declaration))
      return undefined
    try {
      const paginator = createPaginator(declaration, this.#field)
      this.#last = paginator
      const position = paginator.parsePosition(at.position)
      return { declaration, paginator, position }
    } catch {
      return undefined
    }
  }
}
