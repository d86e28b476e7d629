/** Longest message kept from a thrown value; longer ones are cut. */
const MAX_MESSAGE = 500;
/** Longest name kept (a name is a class name, but a thrown object can say anything). */
const MAX_NAME = 100;

/** What a thrown value says about itself, bounded. */
export interface ErrorParts {
  /** The error's `name`, or the type of a thrown value that is not an Error (`'string'`, …). */
  readonly name: string;
  readonly message: string;
  /** The value is an `Error`. */
  readonly isError: boolean;
}

const UNPRINTABLE: ErrorParts = Object.freeze({
  name: 'unknown',
  message: 'unprintable error',
  isError: false,
});

/**
 * The one description of a thrown value, for denial reasons and audit records: bounded, and never
 * throwing itself (a value whose `name`, `message` or `toString` throws, or a Proxy, is an
 * "unprintable error"). An `Error` gives its own name and message; anything else is named by its
 * type and printed with `String()`.
 */
export function errorParts(error: unknown): ErrorParts {
  try {
    if (error instanceof Error) {
      return {
        name: String(error.name).slice(0, MAX_NAME),
        message: String(error.message).slice(0, MAX_MESSAGE),
        isError: true,
      };
    }
    return { name: typeof error, message: String(error).slice(0, MAX_MESSAGE), isError: false };
  } catch {
    return UNPRINTABLE;
  }
}

/** A thrown value on one line, for a reason: `TypeError: boom` for an Error, the value itself otherwise. */
export function describeError(error: unknown): string {
  const parts = errorParts(error);
  return parts.isError ? `${parts.name}: ${parts.message}` : parts.message;
}
