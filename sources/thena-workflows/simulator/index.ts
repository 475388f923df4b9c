export { startWorkflowsSimulator, WORKFLOWS_FAULT_KINDS } from './workflows-simulator.js'
export type {
  WorkflowsSimulator,
  WorkflowsSimulatorStats,
  WorkflowsFaultKind,
} from './workflows-simulator.js'
export {
  workflowsSimulatorOptionsSchema,
  resolveWorkflowsSimulatorOptions,
  WORKFLOWS_ROUTES,
  WORKFLOWS_ENVELOPES,
  WORKFLOWS_PAGING_MODES,
} from './workflows-simulator-options.js'
export type {
  WorkflowsSimulatorOptions,
  ResolvedWorkflowsSimulatorOptions,
  WorkflowsRoute,
  WorkflowsEnvelope,
  WorkflowsPagingMode,
} from './workflows-simulator-options.js'
export {
  workflowsMutationSchema,
  EXECUTION_STATUSES,
  TASK_STATUSES,
  FIELD_TYPES,
} from './workflows-dataset.js'
export type {
  WorkflowsMutation,
  WorkflowsMutationResult,
  WorkflowsTruth,
  ExecutionStatus,
  TaskStatus,
  FieldType,
} from './workflows-dataset.js'
