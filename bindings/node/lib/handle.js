// One lifecycle for every C handle: freed exactly once, by close() or, if the owner forgets,
// when the JS object is garbage-collected; any use after close() is an error, never a
// dangling pointer.
import { EmberError, Status } from './errors.js';

const registry = new FinalizationRegistry(({ free, pointer }) => free(pointer));

export class OwnedHandle {
  #pointer;
  #free;
  #what;

  constructor(pointer, free, what) {
    this.#pointer = pointer;
    this.#free = free;
    this.#what = what;
    registry.register(this, { free, pointer }, this);
  }

  /** The C handle; throws once closed. */
  get pointer() {
    if (this.#pointer === null) throw new EmberError(Status.INVALID_ARGUMENT, `the ${this.#what} is closed`);
    return this.#pointer;
  }

  get closed() { return this.#pointer === null; }

  /** Frees the C object now. Further calls are no-ops. */
  close() {
    if (this.#pointer === null) return;
    registry.unregister(this);
    const pointer = this.#pointer;
    this.#pointer = null;
    this.#free(pointer);
  }
}
