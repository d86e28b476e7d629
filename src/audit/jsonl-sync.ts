import { closeSync, fdatasync, fdatasyncSync } from 'node:fs';
import { DurableWaiters } from './durable-waiters.ts';

/** What a `JsonlSync` tells its sink. */
export interface JsonlSyncEvents {
  /** A sync completed, or failed (a rotation may be due). */
  synced(): void;
  report(error: unknown): void;
}

/**
 * Durability of a JSONL audit log: which records reached the OS and which the disk. With
 * `fsync: 'batch'`, what was written is `fdatasync`ed by group commit (one sync in flight, covering
 * every record written before it started; records written meanwhile get the next one), and the
 * durable writes waiting for a record are told once a sync covers it; with `'never'`, once it is
 * written. After a failed sync the kernel may have dropped the pages: durability is never claimed
 * again.
 */
export class JsonlSync {
  /** Durable writes waiting for their record. */
  readonly waiters: DurableWaiters = new DurableWaiters();
  #writtenSeq: number;
  #syncedSeq: number;
  #syncs = 0;
  #syncing: Promise<void> | undefined;
  #again = false;
  #broken: Error | undefined;

  /** Syncs the descriptor `fd()` names at the time (it changes on rotation); `seq` is on disk already. */
  constructor(
    private readonly mode: 'batch' | 'never',
    private readonly fd: () => number,
    seq: number,
    private readonly events: JsonlSyncEvents,
  ) {
    this.#writtenSeq = seq;
    this.#syncedSeq = seq;
  }

  /** Sequence number of the last record written to the OS. */
  get writtenSeq(): number {
    return this.#writtenSeq;
  }
  /** Sequence number of the last record on stable storage. */
  get syncedSeq(): number {
    return this.#syncedSeq;
  }
  /** `fdatasync` calls completed. */
  get syncs(): number {
    return this.#syncs;
  }
  /** The error of a failed sync: no record is durable after it. */
  get broken(): Error | undefined {
    return this.#broken;
  }

  /** The records up to `seq` are written: their waiters are told (`'never'`), or a sync starts. */
  written(seq: number): void {
    this.#writtenSeq = seq;
    if (this.mode === 'never') this.waiters.settle(seq);
    else this.start();
  }

  /** Starts a sync of what was written and not yet synced (another one after the one in flight). */
  start(): void {
    if (this.mode === 'never' || this.#broken !== undefined) return;
    if (this.#syncing !== undefined) {
      this.#again = true;
      return;
    }
    if (this.#writtenSeq <= this.#syncedSeq) return;
    const target = this.#writtenSeq;
    this.#syncing = new Promise<void>((resolve) => {
      fdatasync(this.fd(), (error) => {
        this.#syncing = undefined;
        if (error) {
          this.#broken = error;
          this.waiters.fail(Infinity, error);
          this.events.report(error);
        } else {
          this.#syncs += 1;
          this.#syncedSeq = Math.max(this.#syncedSeq, target);
          this.waiters.settle(this.#syncedSeq);
          if (this.#again || this.#writtenSeq > this.#syncedSeq) {
            this.#again = false;
            this.start();
          }
        }
        resolve();
        this.events.synced();
      });
    });
  }

  /**
   * Syncs what was written now, with a blocking `fdatasync` (`'batch'`, unless a sync failed
   * before); `always`: even when nothing new was written. Throws when the sync fails.
   */
  now(always = false): void {
    if (this.mode !== 'batch' || this.#broken !== undefined) return;
    if (!always && this.#writtenSeq <= this.#syncedSeq) return;
    fdatasyncSync(this.fd());
    this.#syncs += 1;
    this.#syncedSeq = this.#writtenSeq;
    this.waiters.settle(this.#syncedSeq);
  }

  /** Waits until every record written is synced (`'batch'`); throws the error of a failed sync. */
  async all(): Promise<void> {
    if (this.mode !== 'batch') return;
    while (
      this.#syncing !== undefined ||
      (this.#writtenSeq > this.#syncedSeq && this.#broken === undefined)
    ) {
      if (this.#syncing === undefined) this.start();
      await this.#syncing;
    }
    if (this.#broken !== undefined) throw this.#broken;
  }

  /** Closes `fd` (replaced by a new file): now, or once the sync in flight, which holds it, is done. */
  closeAfter(fd: number): void {
    if (this.#syncing === undefined) closeSync(fd);
    else void this.#syncing.then(() => closeSync(fd));
  }

  /**
   * Waits for the sync in flight, syncs the rest and tells the durable writes whose record is on
   * disk. Returns the error of that last sync, if any.
   */
  async finish(): Promise<unknown> {
    while (this.#syncing !== undefined) await this.#syncing;
    let failure: unknown;
    try {
      this.now();
    } catch (error) {
      failure = error;
    }
    this.waiters.settle(this.#syncedSeq);
    return failure;
  }
}
