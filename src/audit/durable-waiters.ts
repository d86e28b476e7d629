/**
 * Durable writes of a log waiting for their record: each resolves once the record with its
 * sequence number (or a later one) is on disk, or fails with the write or sync that lost it.
 */
export class DurableWaiters {
  #list: { seq: number; resolve: () => void; reject: (error: unknown) => void }[] = [];

  /** How many writes wait. */
  get size(): number {
    return this.#list.length;
  }

  add(seq: number, resolve: () => void, reject: (error: unknown) => void): void {
    this.#list.push({ seq, resolve, reject });
  }

  /** Resolves every write whose record is at or before `upTo`. */
  settle(upTo: number): void {
    if (this.#list.length === 0 || this.#list[0]!.seq > upTo) return;
    this.#list = this.#list.filter((waiter) => {
      if (waiter.seq > upTo) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Rejects every write whose record is at or before `upTo` with `error`. */
  fail(upTo: number, error: unknown): void {
    this.#list = this.#list.filter((waiter) => {
      if (waiter.seq > upTo) return true;
      waiter.reject(error);
      return false;
    });
  }
}
