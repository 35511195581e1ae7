import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '../../../server/logger';
import type { ClusterHandle } from '../../../server/plugins/contract';
import { RecordingErrorCode } from '../../../signaling/errors';
import type { ChannelMedia } from '../media/ChannelMedia';
import type { RecordingEngine } from '../RecordingEngine';
import type { RecordingEventLog } from '../RecordingEventLog';
import type { ResolvedRecordingConfig } from '../recordingConfig';
import { recordingCostOf } from './recordingCost';
import { freeUnits, rankRecorderNodes } from './RecorderPlacement';
import type { ClaimedRecording, DirectoryEntry, PublishedEvent, RecordingDirectory } from './RecordingDirectory';
import { openSpec, type RecordingSpec } from './recordingSpec';

const logger = new Logger('RecordingTakeover');

export interface RecordingTakeoverOptions {
  cluster: Pick<ClusterHandle, 'nodeId' | 'roles' | 'liveNodes'>;
  directory: RecordingDirectory;
  engine: RecordingEngine;
  /** The other nodes' events as mirrored here: the history a takeover serves on. */
  mirror: RecordingEventLog;
  /** The cluster's shared secret the specs are sealed under. */
  secret: string;
  /** The channel's media for a segment recorded here (waits for the channel when it lives nowhere now). */
  media(channelId: string, config: ResolvedRecordingConfig): Promise<ChannelMedia>;
  /** An orphan nobody could take was declared failed by this node: its fatalError is this node's to deliver. */
  declaredFailed(event: PublishedEvent): void;
  /** How long each recorder ranked before this one is given to claim first. */
  staggerMs?: number;
  /** How long after the death an unclaimed orphan is declared failed. */
  unclaimedAfterMs?: number;
}

const DEFAULT_STAGGER_MS = 250;
const DEFAULT_UNCLAIMED_AFTER_MS = 5000;

/**
 * Carries a dead recorder node's recordings on, each as its next segment on another recorder node.
 * Every node hears of the death; the recorders rank themselves as placement would (the most free
 * first) and claim in that order, a stagger apart, so the best placed one claims first and a
 * claim (Lua, atomic) is won once. An orphan still unclaimed after `unclaimedAfterMs` — no recorder
 * had room — is declared failed, once, by whichever node gets there first.
 */
export class RecordingTakeover {
  readonly #options: RecordingTakeoverOptions;
  #closed = false;

  constructor(options: RecordingTakeoverOptions) {
    this.#options = options;
  }

  close(): void {
    this.#closed = true;
  }

  /** `deadNodeId` died (its recordings with a spec were made orphans): take them over, or fail them. */
  async nodeDown(deadNodeId: string, lastSeenAt: number): Promise<void> {
    let orphans: DirectoryEntry[];
    try {
      orphans = await this.#options.directory.orphansOf(deadNodeId);
    } catch (error) {
      logger.warn(`the orphans of dead node ${deadNodeId} are unknown: ${(error as Error).message}`);
      return;
    }
    await Promise.allSettled(orphans.map((orphan) => this.#adopt(orphan, deadNodeId, lastSeenAt)));
  }

  async #adopt(orphan: DirectoryEntry, deadNodeId: string, lastSeenAt: number): Promise<void> {
    const { recordingId } = orphan;
    const began = Date.now();
    const claimed = await this.#claimInTurn(orphan, deadNodeId).catch((error: unknown) => {
      logger.warn(`claim failed: ${(error as Error).message}`, { recordingId });
      return undefined;
    });
    if (claimed) {
      await this.#carryOn(claimed.spec, claimed.claim, deadNodeId, lastSeenAt);
      return;
    }
    await sleep(Math.max(0, (this.#options.unclaimedAfterMs ?? DEFAULT_UNCLAIMED_AFTER_MS) - (Date.now() - began)));
    if (this.#closed) return;
    const event = await this.#options.directory.failOrphan(recordingId, deadNodeId, 'no recorder node had room to carry it on').catch(() => undefined);
    if (event) {
      logger.warn(`recording declared failed: its node ${deadNodeId} is down and no recorder node took it over`, { recordingId });
      this.#options.declaredFailed(event);
    }
  }

  /** Claims the orphan once the recorders ranked before this node had their turn; undefined when this node is not to. */
  async #claimInTurn(orphan: DirectoryEntry, deadNodeId: string): Promise<{ claim: ClaimedRecording; spec: RecordingSpec } | undefined> {
    const { cluster, directory, secret } = this.#options;
    if (!cluster.roles.includes('recorder')) return undefined;
    const sealed = (await directory.claimable(orphan.recordingId)) ?? '';
    const spec = openSpec(sealed, orphan.recordingId, secret);
    if (!spec) return undefined;
    const cost = recordingCostOf(spec.config, { producers: () => [] });
    const ranked = rankRecorderNodes((await cluster.liveNodes()).filter((node) => node.nodeId !== deadNodeId && freeUnits(node) >= cost), cluster.nodeId);
    const turn = ranked.findIndex((node) => node.nodeId === cluster.nodeId);
    if (turn < 0) return undefined;
    await sleep(turn * (this.#options.staggerMs ?? DEFAULT_STAGGER_MS));
    if (this.#closed) return undefined;
    const claim = await directory.claim(orphan.recordingId, deadNodeId);
    return claim ? { claim, spec } : undefined;
  }

  /** This node owns the recording now: it records the next segment, or tells why it cannot. */
  async #carryOn(spec: RecordingSpec, claim: ClaimedRecording, deadNodeId: string, lastSeenAt: number): Promise<void> {
    const { engine, mirror } = this.#options;
    const { recordingId, channelId } = spec;
    logger.warn(`recorder node ${deadNodeId} died: this node carries the recording on as segment ${claim.segment}`, { recordingId, channelId });
    const continuing = {
      recordingId,
      segment: claim.segment,
      keyStem: spec.keyStem,
      timelineStartedAt: claim.view.startedAt,
      participants: spec.participants,
      lastSeq: claim.lastSeq,
      history: mirror.since(recordingId).entries,
      fromNodeId: deadNodeId,
      lastSeenAt,
    };
    let started: Promise<unknown>;
    try {
      const channel = await this.#options.media(channelId, spec.config);
      started = engine.start({ channel, config: spec.config, target: spec.target, startedBy: spec.startedBy, continuing }).started;
    } catch (error) {
      // Refused before its recorder was spawned (no room after all, the channel unreachable): this node ends it.
      engine.failContinuation(spec, continuing, RecordingErrorCode.RecorderFailed, `recorder node ${deadNodeId} died and this node could not carry the recording on: ${(error as Error).message}`);
      return;
    }
    // A recorder that fails to start ends the recording with the engine's own fatalError.
    await started.catch((error: unknown) => logger.warn(`segment ${claim.segment} did not start: ${(error as Error).message}`, { recordingId }));
  }
}
