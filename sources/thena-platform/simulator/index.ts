export {
  startPlatformSimulator,
  dateRangeStart,
  DATE_RANGES,
  PLATFORM_FAULT_KINDS,
} from './platform-simulator.js'
export type {
  PlatformSimulator,
  PlatformSimulatorStats,
  PlatformSimulatorEffectiveOptions,
  PlatformFaultKind,
  DateRange,
} from './platform-simulator.js'
export {
  platformSimulatorOptionsSchema,
  resolvePlatformSimulatorOptions,
  PLATFORM_ROUTES,
  PLATFORM_PAGING_MODES,
  TICKET_ORDERS,
  DELETED_STYLES,
  DATE_RANGE_FIELDS,
} from './platform-simulator-options.js'
export type {
  PlatformSimulatorOptions,
  ResolvedPlatformSimulatorOptions,
  PlatformRoute,
  PlatformPagingMode,
  TicketOrder,
  DeletedStyle,
  DateRangeField,
} from './platform-simulator-options.js'
export { platformMutationSchema } from './platform-mutation.js'
export type { PlatformMutation, PlatformMutationResult } from './platform-mutation.js'
export { FIELD_VALUE_TYPES } from './platform-dataset.js'
export type { PlatformTruth, FieldValueType } from './platform-dataset.js'
export { ATTRIBUTE_KINDS } from './platform-pools.js'
export type { AttributeKind } from './platform-pools.js'
