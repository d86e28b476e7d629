import { ConfigurationError } from '../errors.ts';
import { describeError } from './describe-error.ts';
import { newId } from './ids.ts';

/** Longest id taken from a host's `generateId` (ids end up in records, links and file names). */
export const MAX_ID_LENGTH = 256;

/**
 * The guard's clock and id generator as `createGuard` uses them: the host's own (`options.now`,
 * `options.generateId`), each answer checked. A clock that throws or answers anything but a
 * finite number, an id generator that throws or answers anything but a string of 1 to 256
 * characters, is a fault: the guard takes the system clock, or an id of its own, for that one
 * answer (so every record still carries a real time and an id), counts the fault and reports it
 * (`report`). A call during which a fault happened, up to its decision, is denied (see
 * `hostFault` in src/core/steps/decide.ts): its time or its id is not what the host meant.
 * The defaults (`Date.now`, nanoid-format ids) cannot fail and are used as they are.
 */
export class HostFunctions {
  /** Faults so far. A call notes the count as it starts; a change by its decision denies it. */
  faults = 0;
  /** The last fault, for the reason of the denial. */
  lastFault = '';
  readonly now: () => number;
  readonly generateId: () => string;
  /** Whether every id is unique (the default generator's, 126 random bits): a host's may repeat. */
  readonly uniqueIds: boolean;

  constructor(
    now: () => number,
    generateId: () => string,
    report: (source: 'now' | 'generateId', error: ConfigurationError) => void,
  ) {
    // One host function, checked: its answer when `valid`, else the fault counted and reported
    // and `standIn`'s answer instead.
    const checked = <T>(
      source: 'now' | 'generateId',
      host: () => T,
      valid: (value: unknown) => boolean,
      expected: string,
      standIn: () => T,
      instead: string,
    ): (() => T) => {
      const fault = (problem: string, cause?: unknown): T => {
        this.faults += 1;
        // What a thrown error says goes to the host (the error event), not into denial reasons.
        this.lastFault = `options.${source} ${problem}`;
        const said = cause === undefined ? '' : ` (${describeError(cause)})`;
        try {
          report(source, new ConfigurationError(`${this.lastFault}${said}; ${instead}`, { cause }));
        } catch {
          // Reporting must not break the call that noticed it; the call is denied all the same.
        }
        return standIn();
      };
      return () => {
        let value: T;
        try {
          value = host();
        } catch (error) {
          return fault('threw', error);
        }
        return valid(value) ? value : fault(`answered ${shown(value)}, not ${expected}`);
      };
    };
    this.now =
      now === Date.now
        ? now
        : checked(
            'now',
            now,
            (value) => typeof value === 'number' && Number.isFinite(value),
            'a finite number of epoch ms',
            Date.now,
            'the system clock stood in',
          );
    this.uniqueIds = generateId === newId;
    this.generateId =
      generateId === newId
        ? generateId
        : checked(
            'generateId',
            generateId,
            (value) => typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH,
            `a string of 1 to ${MAX_ID_LENGTH} characters`,
            newId,
            'a toolgate id stood in',
          );
  }
}

/** A host function's answer in a reason: its type, and a short look at it when it is a scalar. */
function shown(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'string':
      return value.length === 0 ? 'an empty string' : `a string of ${value.length} characters`;
    default:
      return value === null ? 'null' : `a ${typeof value}`;
  }
}

/**
 * A host's clock (a `now` option) for a component outside the guard's calls (an approver, the
 * console, the agent registry): its answer, or a TypeError when it throws (as it is) or answers
 * anything but a finite number. A NaN time compares false with everything, so an expiry or a
 * replay window checked against it would pass: the operation fails instead. `Date.now` is taken
 * as it is.
 */
export function checkedClock(now: () => number, owner: string): () => number {
  if (now === Date.now) return now;
  return () => {
    const value: unknown = now();
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    throw new TypeError(`toolgate: ${owner} now() answered ${shown(value)}, not a finite number of epoch ms`);
  };
}

/** Whether `now` is a time a check can compare with: a finite number (epoch ms). */
export function isTime(now: unknown): now is number {
  return typeof now === 'number' && Number.isFinite(now);
}
