import type { ChannelProperties } from '../../signaling/protocol';

/** What the `recordParam` channel property shows of the param in force (no keys). */
type RecordParamDescription = NonNullable<ChannelProperties['recordParam']>;
import type { RecordParam } from '../../signaling/recordParam';

/** The record param in force and who set it: a peer's uid, or 'server' for the default storage. */
export interface RecordParamInForce {
  param: RecordParam;
  setBy: string;
}

/**
 * The record params of one channel, kept per peer that set one (only peers with the record privilege
 * get here). The param in force is the one set most recently by a peer still in the channel; when
 * none is left, the server's default (local storage), if any. A peer's leaving takes its param with
 * it, so nobody's choice outlives their presence — a recording already started keeps its own target.
 */
export class ChannelRecordParams {
  /** Insertion order is recency: a peer setting again moves to the end. */
  readonly #byPeer = new Map<string, RecordParamInForce>();
  readonly #fallback: RecordParamInForce | undefined;
  #description: RecordParamDescription | null = null;

  constructor(fallback: RecordParam | undefined) {
    this.#fallback = fallback ? { param: fallback, setBy: 'server' } : undefined;
    this.#describe();
  }

  set(peerId: string, uid: string, param: RecordParam): void {
    this.#byPeer.delete(peerId);
    this.#byPeer.set(peerId, { param, setBy: uid });
    this.#describe();
  }

  /** The peer left: its param stops counting. */
  forget(peerId: string): void {
    if (this.#byPeer.delete(peerId)) this.#describe();
  }

  inForce(): RecordParamInForce | undefined {
    let latest: RecordParamInForce | undefined;
    for (const entry of this.#byPeer.values()) latest = entry;
    return latest ?? this.#fallback;
  }

  /** The same object until the param in force changes, so an unchanged property is not re-sent. */
  get description(): RecordParamDescription | null {
    return this.#description;
  }

  #describe(): void {
    const current = this.inForce();
    const next: RecordParamDescription | null = current
      ? {
          vendor: current.param.storage.vendor,
          ...(current.param.storage.bucket !== undefined ? { bucket: current.param.storage.bucket } : {}),
          ...(current.param.storage.region !== undefined ? { region: current.param.storage.region } : {}),
          ...(current.param.storage.endpoint !== undefined ? { endpoint: current.param.storage.endpoint } : {}),
          fileName: current.param.fileName,
          video: current.param.video,
          setBy: current.setBy,
        }
      : null;
    if (JSON.stringify(next) !== JSON.stringify(this.#description)) this.#description = next;
  }
}
