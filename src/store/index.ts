export { memoryStore } from './memory.ts';
export type {
  AdmitRequest,
  AdmitResult,
  BudgetCheck,
  ClaimOptions,
  PutOptions,
  RateCheck,
  SemaphoreCheck,
  SettleRequest,
  StateStore,
  StoredRecord,
  Suspension,
  SuspensionRecord,
  Unsubscribe,
  UseOptions,
  UseResult,
} from './types.ts';
export { type WaitForOptions, waitFor } from './wait.ts';
