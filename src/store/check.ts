import type { AdmitRequest, SettleRequest } from './types.ts';

/**
 * Argument checks shared by the built-in stores. A malformed request throws a TypeError, which
 * the guard turns into a deny (`STORE_UNAVAILABLE`): a store never guesses what a caller meant.
 */
export function checkAdmitRequest(request: AdmitRequest): void {
  if (typeof request !== 'object' || request === null)
    throw new TypeError('toolgate: admit() takes a request');
  requireTime(request.now, 'now');
  requireString(request.holder, 'holder');
  for (const key of request.suspensions ?? []) requireString(key, 'suspension key');
  for (const check of request.rates ?? []) {
    requireString(check.key, 'rate key');
    requirePositiveInteger(check.limit, 'rate limit');
    requirePositive(check.windowMs, 'rate windowMs');
  }
  for (const check of request.semaphores ?? []) {
    requireString(check.key, 'semaphore key');
    requirePositiveInteger(check.limit, 'semaphore limit');
    requirePositive(check.leaseMs, 'semaphore leaseMs');
  }
  for (const check of request.budgets ?? []) {
    requireString(check.key, 'budget key');
    requireNonNegative(check.amount, 'budget amount');
    requireNonNegative(check.max, 'budget max');
    requirePositive(check.windowMs, 'budget windowMs');
  }
}

export function checkSettleRequest(request: SettleRequest): void {
  if (typeof request !== 'object' || request === null)
    throw new TypeError('toolgate: settle() takes a request');
  requireTime(request.now, 'now');
  requireString(request.holder, 'holder');
  if (typeof request.ran !== 'boolean') throw new TypeError('toolgate: settle() needs ran: boolean');
  for (const key of request.semaphores ?? []) requireString(key, 'semaphore key');
  for (const key of request.budgets ?? []) requireString(key, 'budget key');
}

export function requireString(value: unknown, what: string): void {
  if (typeof value !== 'string') throw new TypeError(`toolgate: ${what} must be a string`);
}

export function requireTime(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TypeError(`toolgate: ${what} must be a finite number of epoch ms`);
}

export function requirePositive(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new TypeError(`toolgate: ${what} must be a positive number`);
}

export function requireNonNegative(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new TypeError(`toolgate: ${what} must be a finite, non-negative number`);
}

export function requirePositiveInteger(value: unknown, what: string): void {
  if (!Number.isSafeInteger(value) || (value as number) <= 0)
    throw new TypeError(`toolgate: ${what} must be a positive integer`);
}
