export { startSimulator, FAULT_KINDS } from './thena-simulator.js'
export type { Simulator, SimulatorCounters, FaultKind } from './thena-simulator.js'
export type {
  SimulatorOptions,
  ResolvedSimulatorOptions,
  CursorLocation,
  PagingMode,
} from './simulator-options.js'
export { SimulatedDataset, FIELD_TYPES } from './simulated-dataset.js'
export type { FieldType, DriftResource } from './simulated-dataset.js'
export type { Mutation, MutationResult } from './mutation.js'
export { objectIdTime } from './object-id.js'
