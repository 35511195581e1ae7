import { EventEmitter } from 'node:events';
import { Logger } from './logger';

const logger = new Logger('TypedEmitter');

/** Events map: event name → listener argument tuple. */
export type EventMap = Record<string, unknown[]>;

/**
 * EventEmitter with typed events and safeEmit(): a throwing listener is logged, never allowed to
 * unwind into the emitter's own state changes.
 */
export class TypedEmitter<Events extends EventMap> extends EventEmitter {
  override on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (error) {
      logger.error(`safeEmit() | listener of "${event}" threw: ${String(error)}`);
      return true;
    }
  }
}
