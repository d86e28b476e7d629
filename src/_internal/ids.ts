import { random, urlAlphabet } from 'nanoid';

/**
 * Symbols per id and ids made per batch. nanoid sizes its pool at 128 times the first request and
 * fills it with one `getRandomValues` call, which refuses more than 65,536 bytes: a batch must stay
 * at 512 bytes or less, in case it is the pool's first request.
 */
const SIZE = 21;
const BATCH = 24;

/** nanoid's URL-safe alphabet: 64 symbols, so each random byte's low 6 bits pick one without bias. */
const SYMBOLS = Uint8Array.from(urlAlphabet, (symbol) => symbol.charCodeAt(0));
const chars = Buffer.allocUnsafe(SIZE * BATCH);

let batch = '';
let taken = BATCH;

/**
 * A call id in nanoid's default format: 21 symbols of its URL alphabet, 126 random bits from
 * nanoid's crypto pool. `nanoid()` builds each id by appending one symbol at a time (21 string
 * allocations, about 0.2 µs); this decodes 24 ids as one string and hands out slices of it.
 */
export function newId(): string {
  if (taken === BATCH) refill();
  const start = taken * SIZE;
  taken += 1;
  return batch.slice(start, start + SIZE);
}

/** This process's part of the holders made by `uniqueHolder`. */
let processPart: string | undefined;
let holders = 0;

/**
 * What the state store knows a call by (its limits' holder), for a call whose id came from the
 * host's `generateId`: the id, this process's random part and a sequence number. Two calls never
 * share one, even when the host gives them the same id (a request id, a counter per process);
 * the store takes a holder it has seen as the same call again (idempotent admission), so calls
 * sharing one would pass concurrency, budget and rate limits as one.
 */
export function uniqueHolder(callId: string): string {
  processPart ??= newId();
  holders += 1;
  return `${callId}~${processPart}.${holders.toString(36)}`;
}

function refill(): void {
  const bytes = random(SIZE * BATCH);
  for (let i = 0; i < chars.length; i++) chars[i] = SYMBOLS[bytes[i]! & 63]!;
  batch = chars.toString('latin1');
  taken = 0;
}
