import { ip, tryIp } from './ipCommand';

/**
 * A network namespace joined to this one by a veth pair, both ends addressed by the test: a
 * second "machine" on this host. Its default route points at our end, so a server started in it
 * auto-detects its veth address as its primary one. Traffic only flows between the two ends.
 */
export class NetworkNamespace {
  readonly name: string;
  /** Our end (the root namespace). */
  readonly hostIp: string;
  /** The namespace's end. */
  readonly innerIp: string;
  readonly #hostVeth: string;
  readonly #innerVeth: string;
  #closed = false;

  private constructor(tag: number) {
    this.name = `confrec-rt-${tag}`;
    this.#hostVeth = `crt${tag}h`;
    this.#innerVeth = `crt${tag}n`;
    const subnet = (tag % 250) + 1;
    this.hostIp = `10.77.${subnet}.1`;
    this.innerIp = `10.77.${subnet}.2`;
  }

  /** Why namespaces cannot be made here (not root, no iproute2), or undefined when they can. */
  static unavailableReason(): string | undefined {
    const probe = `confrec-probe-${process.pid}`;
    try {
      ip('netns', 'add', probe);
      ip('netns', 'del', probe);
      return undefined;
    } catch (error) {
      return `cannot create a network namespace (ip netns add needs root and iproute2): ${String((error as Error).message).split('\n')[0]}`;
    }
  }

  static create(tag = process.pid % 100000): NetworkNamespace {
    const namespace = new NetworkNamespace(tag);
    namespace.#removeLeftovers();
    try {
      ip('netns', 'add', namespace.name);
      ip('link', 'add', namespace.#hostVeth, 'type', 'veth', 'peer', 'name', namespace.#innerVeth);
      ip('link', 'set', namespace.#innerVeth, 'netns', namespace.name);
      ip('addr', 'add', `${namespace.hostIp}/30`, 'dev', namespace.#hostVeth);
      ip('link', 'set', namespace.#hostVeth, 'up');
      namespace.ip('link', 'set', 'lo', 'up');
      namespace.ip('addr', 'add', `${namespace.innerIp}/30`, 'dev', namespace.#innerVeth);
      namespace.ip('link', 'set', namespace.#innerVeth, 'up');
      namespace.ip('route', 'add', 'default', 'via', namespace.hostIp);
    } catch (error) {
      namespace.close();
      throw error;
    }
    return namespace;
  }

  /** `ip -n <name> …` */
  ip(...args: string[]): string {
    return ip('-n', this.name, ...args);
  }

  /** argv prefix that runs a command inside the namespace. */
  exec(command: string, ...args: string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.name, command, ...args]];
  }

  /** Removes the veth pair and the namespace; safe to call twice and after a half-made create(). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#removeLeftovers();
  }

  #removeLeftovers(): void {
    tryIp('link', 'del', this.#hostVeth);
    tryIp('netns', 'del', this.name);
  }
}
