/**
 * An AbortController created only when someone reads its signal. Most policy engines and tools
 * never look at the signal, and creating an AbortController per call is measurable on the hot path.
 * Aborting before the signal was read still yields an aborted signal when it is read later.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private aborted = false;
  private reason: unknown;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
