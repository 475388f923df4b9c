import { valueAt } from '../core/json-path.js'
import type { ResolvedResource } from '../source/resolve-resource.js'

/**
 * The values child resources fill their paths from, collected from the parent records a run
 * loads (new or changed: an unchanged page's records are not), so that a child is re-read only
 * for the parents that changed; a reconcile loads every parent, so it re-reads every child.
 */
export class ParentKeys {
  /** Per parent resource: the fields its children need, each with the values seen. */
  readonly #wanted = new Map<string, Map<string, Set<string>>>()

  constructor(resources: readonly ResolvedResource[]) {
    for (const r of resources) {
      if (!r.parent) continue
      const parent = resources.find((p) => p.name === r.parent!.resource)
      const field = r.parent.field ?? parent?.childKey?.field ?? parent?.primaryKey ?? 'id'
      let fields = this.#wanted.get(r.parent.resource)
      if (!fields) this.#wanted.set(r.parent.resource, (fields = new Map()))
      fields.set(field, new Set())
    }
  }

  /** Notes the parent values among records of `resource` about to be loaded. */
  collect(resource: string, records: readonly unknown[]): void {
    const fields = this.#wanted.get(resource)
    if (!fields) return
    for (const [field, values] of fields)
      for (const record of records) {
        const value = valueAt(record, [field])
        if ((typeof value === 'string' && value !== '') || typeof value === 'number')
          values.add(String(value))
      }
  }

  /** The parent values a child resource is read for, in the order they were seen. */
  valuesFor(child: ResolvedResource, resources: readonly ResolvedResource[]): readonly string[] {
    const parent = child.parent
    if (!parent) return []
    const field = parent.field ?? ownKey(resources.find((p) => p.name === parent.resource))
    return [...(this.#wanted.get(parent.resource)?.get(field) ?? [])]
  }
}

/** A resource's own key field (a child's, not its composite one). */
const ownKey = (r: ResolvedResource | undefined): string =>
  r?.childKey?.field ?? r?.primaryKey ?? 'id'
