import { ip, tryIp } from './ipCommand';

/** Our drops' rule priority: ahead of the `local` table's rule while that waits at LOCAL_MOVED_TO. */
const DROP_PRIORITY = '77';
/** Where the `local` table's rule waits while a drop is on (its usual priority is 0). */
const LOCAL_MOVED_TO = '100';

/**
 * A network that loses every packet to some UDP ports of one address for a while: an `ip rule …
 * blackhole` per port (iproute2, root). Loopback traffic is routed by the `local` table, whose rule
 * has priority 0 and so comes before any rule added; while a drop is on, that rule waits at
 * priority 100, which routes every other packet as before. restore() puts it back.
 */
export class UdpBlackhole {
  readonly #rules: string[][];
  #restored = false;

  private constructor(rules: string[][]) {
    this.#rules = rules;
  }

  /** Why drops cannot be made here (not root, no iproute2), or undefined when they can. */
  static unavailableReason(): string | undefined {
    // A rule that matches no packet: a documentation address (RFC 5737) nobody sends to.
    const probe = ['pref', DROP_PRIORITY, 'to', '192.0.2.77', 'ipproto', 'udp', 'dport', '9', 'blackhole'];
    try {
      ip('rule', 'add', ...probe);
      ip('rule', 'del', ...probe);
      return undefined;
    } catch (error) {
      return `cannot add an ip rule (needs root and iproute2): ${String((error as Error).message).split('\n')[0]}`;
    }
  }

  /** From now on, UDP to `address` at `ports` is dropped, until restore(). */
  static drop(address: string, ports: number[]): UdpBlackhole {
    const hole = new UdpBlackhole(ports.map((port) => ['pref', DROP_PRIORITY, 'to', address, 'ipproto', 'udp', 'dport', String(port), 'blackhole']));
    process.once('exit', hole.restore);
    try {
      for (const rule of hole.#rules) ip('rule', 'add', ...rule);
      ip('rule', 'add', 'pref', LOCAL_MOVED_TO, 'lookup', 'local');
      ip('rule', 'del', 'pref', '0', 'lookup', 'local');
    } catch (error) {
      hole.restore();
      throw error;
    }
    return hole;
  }

  /** Packets flow again. Idempotent; also runs when the process exits. */
  restore = (): void => {
    if (this.#restored) return;
    this.#restored = true;
    process.off('exit', this.restore);
    if (!ip('rule', 'show', 'pref', '0').includes('lookup local')) ip('rule', 'add', 'pref', '0', 'lookup', 'local');
    tryIp('rule', 'del', 'pref', LOCAL_MOVED_TO, 'lookup', 'local');
    for (const rule of this.#rules) tryIp('rule', 'del', ...rule);
  };
}
