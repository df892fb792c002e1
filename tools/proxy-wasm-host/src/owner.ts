// What an HTTP stream or a TCP connection needs from the plugin it runs in: its VM, the plugin's failure
// policy and limits, and a way to say it is done. Streams and connections depend on this, not on the plugin.
import type { Vm } from './vm';

export interface ContextOwner {
  readonly vm: Vm;
  readonly rootContextId: number;
  /** FAIL_OPEN: a failed VM lets traffic through instead of failing it. */
  readonly failOpen: boolean;
  readonly bufferLimit: number;
  readonly allowStopIteration: boolean;
  /** VM generation: +1 per FAIL_RELOAD reload; contexts of an older generation fail closed. */
  readonly generation: number;
  readonly failed: boolean;
  readonly closed: boolean;
  /** A stream completed on a healthy VM (FAIL_RELOAD backoff restarts from its base). */
  streamSucceeded(): void;
  /** The context is finished: the plugin forgets it. */
  contextDone(id: number, context: object): void;
}
