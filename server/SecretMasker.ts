/**
 * The strings no log line may show (storage keys, auth secrets), each held while something uses it.
 * Holds are counted per secret, so two recordings sharing one key do not unmask each other when the
 * first one ends. Masking costs the same however many secrets are held: candidates are found
 * through an index of their first three characters, so a line is scanned once.
 */

/** A secret shorter than this is not masked: it would blank common words (and cannot be a real key). */
export const MIN_MASKED_LENGTH = 4;

export interface SecretHold {
  /** Lets go of this hold; the secret stays masked while other holds remain. Idempotent. */
  release(): void;
}

const NO_HOLD: SecretHold = { release: () => undefined };

function prefixKey(text: string, index: number): number {
  return (text.charCodeAt(index) * 65536 + text.charCodeAt(index + 1)) * 65536 + text.charCodeAt(index + 2);
}

export class SecretMasker {
  readonly #maxSecrets: number;
  readonly #counts = new Map<string, number>();
  /** First three characters → the held secrets starting with them, longest first. */
  readonly #byPrefix = new Map<number, string[]>();

  constructor(maxSecrets: number) {
    this.#maxSecrets = maxSecrets;
  }

  /** Distinct secrets held now. */
  get size(): number {
    return this.#counts.size;
  }

  /** Holds `secret` (strings too short to mask are ignored). Always succeeds. */
  hold(secret: string | undefined | null): SecretHold {
    if (!secret || secret.length < MIN_MASKED_LENGTH) return NO_HOLD;
    this.#add(secret);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#remove(secret);
      },
    };
  }

  /** Like hold(), but undefined when `secret` is new and the masker already holds its maximum. */
  tryHold(secret: string | undefined | null): SecretHold | undefined {
    if (secret && secret.length >= MIN_MASKED_LENGTH && !this.#counts.has(secret) && this.#counts.size >= this.#maxSecrets) return undefined;
    return this.hold(secret);
  }

  mask(text: string): string {
    if (this.#counts.size === 0) return text;
    let out = '';
    let copied = 0;
    for (let index = 0; index + MIN_MASKED_LENGTH <= text.length; ) {
      const candidates = this.#byPrefix.get(prefixKey(text, index));
      const found = candidates?.find((secret) => text.startsWith(secret, index));
      if (found === undefined) {
        index++;
        continue;
      }
      out += text.slice(copied, index) + '***';
      index += found.length;
      copied = index;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }

  #add(secret: string): void {
    const count = this.#counts.get(secret) ?? 0;
    this.#counts.set(secret, count + 1);
    if (count > 0) return;
    const key = prefixKey(secret, 0);
    const list = this.#byPrefix.get(key) ?? [];
    list.push(secret);
    list.sort((a, b) => b.length - a.length);
    this.#byPrefix.set(key, list);
  }

  #remove(secret: string): void {
    const count = this.#counts.get(secret) ?? 0;
    if (count > 1) {
      this.#counts.set(secret, count - 1);
      return;
    }
    this.#counts.delete(secret);
    const key = prefixKey(secret, 0);
    const list = this.#byPrefix.get(key)?.filter((other) => other !== secret) ?? [];
    if (list.length > 0) this.#byPrefix.set(key, list);
    else this.#byPrefix.delete(key);
  }
}
