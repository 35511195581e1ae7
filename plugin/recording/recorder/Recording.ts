/**
 * What the child's request loop drives: one implementation per recording mode.
 */
import { MixedVideoLayout } from '../layout';
import { InputPorts, RecordedFile, RecorderInput } from './protocol';
import { TypedEmitter } from '../../../server/TypedEmitter';

export type RecordingEvents = {
  firstFrame: [inputId: string];
  /** fatal: the file can no longer be written. */
  error: [message: string, fatal: boolean, inputId?: string];
};

export interface Recording extends TypedEmitter<RecordingEvents> {
  /** Date.now() at start: the zero of every startOffsetMs. */
  readonly startedAt: number;
  start(): void;
  addInput(input: RecorderInput): InputPorts;
  removeInput(inputId: string): void;
  setInputPaused(inputId: string, paused: boolean): void;
  setLayout(layout: MixedVideoLayout, maxResolutionUid?: string): void;
  /** The size of the last frame `inputId` decoded (undefined: none yet, or the mode decodes nothing). */
  decodedSize(inputId: string): { width: number; height: number } | undefined;
  /** Finalizes the files; resolves within about deadlineMs even when EOS does not complete. */
  stop(deadlineMs: number): Promise<RecordedFile[]>;
  /** Immediate teardown (no finalization). Idempotent. */
  close(): void;
}
