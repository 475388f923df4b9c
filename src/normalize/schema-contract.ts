/**
 * What happens when data does not fit the warehouse schema (the semantics dlt users know):
 * - `evolve`: add the column (or a `<column>__v_<type>` variant) and record it in the history;
 * - `freeze`: fail the run before the batch commits, naming the resource, field and types;
 * - `discard_row`: the record goes to the rejects table instead of its table;
 * - `discard_value`: the value is dropped, the record loads, and is noted in the rejects table.
 */
export const CONTRACT_MODES = ['evolve', 'freeze', 'discard_row', 'discard_value'] as const
export type ContractMode = (typeof CONTRACT_MODES)[number]

/** A schema contract, set separately for new fields and for type changes. */
export interface SchemaContract {
  /** A field (or array of objects) no table has a column for yet. Default `evolve`. */
  readonly newColumns: ContractMode
  /** A value whose type clashes with its column (and has no variant yet). Default `evolve`. */
  readonly typeChanges: ContractMode
}

export const EVOLVE: SchemaContract = { newColumns: 'evolve', typeChanges: 'evolve' }
