/**
 * Answers a person gave through an adapter's approval helper, kept in this process until the
 * framework runs the call (normally within the same request). Bounded: past `max` entries the
 * oldest is dropped, so answers that are never used cannot pile up.
 */
export class AnswerBook<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max = 10_000) {}

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Returns and removes the entry: an answer is used once. */
  take(key: string): V | undefined {
    const value = this.entries.get(key);
    this.entries.delete(key);
    return value;
  }
}

/** One `AnswerBook` per owner (a guard, a run), made on first use and dropped with the owner. */
export class AnswerBooks<V> {
  private readonly books = new WeakMap<object, AnswerBook<V>>();

  for(owner: object): AnswerBook<V> {
    let book = this.books.get(owner);
    if (book === undefined) {
      book = new AnswerBook();
      this.books.set(owner, book);
    }
    return book;
  }
}
