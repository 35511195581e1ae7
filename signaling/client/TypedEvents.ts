/** Event name → listener argument tuple. */
export type EventMap = Record<string, unknown[]>;

type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * A tiny typed event emitter that runs in browsers and Node alike (node:events is not available in a
 * browser bundle). emit() is "safe": a throwing listener is reported to `onListenerError` and never
 * unwinds into the emitter's own state changes.
 */
export class TypedEvents<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<Listener<any>>>();

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        this.onListenerError(String(event), error);
      }
    }
  }

  protected onListenerError(event: string, error: unknown): void {
    // eslint-disable-next-line no-console
    console.error(`listener of "${event}" threw`, error);
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
