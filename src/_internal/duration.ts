import ms from 'ms';
import { ConfigurationError } from '../errors.ts';
import type { Duration } from '../types.ts';

/**
 * Parses a duration (`'30s'`, `'5m'`, or milliseconds) once, at construction.
 * Throws a ConfigurationError for anything that is not a finite, non-negative duration.
 */
export function parseDuration(value: Duration, what: string): number {
  let parsed: number | undefined;
  if (typeof value === 'number') parsed = value;
  else if (typeof value === 'string') parsed = ms(value as ms.StringValue) as number | undefined;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new ConfigurationError(
      `${what} must be a duration such as '30s' or a number of milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}
