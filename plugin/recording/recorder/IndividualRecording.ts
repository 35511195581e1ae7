/**
 * Per-participant mode: one file per input stream, no re-encoding (VP8/Opus → WebM, H.264 → MP4),
 * and `<fileBaseName>.json` listing each file's start offset so the set can be aligned afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MixedVideoLayout } from '../layout';
import { CodedError, RecordingErrorCode } from '../../../signaling/errors';
import { Logger } from '../../../server/logger';
import { TypedEmitter } from '../../../server/TypedEmitter';
import { InputPipeline } from './InputPipeline';
import { individualExtension, individualInputLaunch } from './launch';
import { InputPorts, RecordedFile, RecorderInput, RecorderJob } from './protocol';
import { Recording, RecordingEvents } from './Recording';

const logger = new Logger('IndividualRecording');

export interface IndividualMetadata {
  recordingId: string;
  /** ISO time of the recording start: offset 0. */
  startedAt: string;
  files: Array<Omit<RecordedFile, 'path'> & { file: string }>;
}

function codecName(input: RecorderInput): string {
  return input.codec.mimeType.split('/')[1].toLowerCase();
}

export class IndividualRecording extends TypedEmitter<RecordingEvents> implements Recording {
  readonly #job: RecorderJob;
  readonly #bindIp: string;
  /** Every input ever added (removed ones keep their file). */
  readonly #inputs = new Map<string, { pipeline: InputPipeline; location: string; removed: boolean }>();
  #startedAt = 0;
  #running = false;
  #closed = false;

  constructor(job: RecorderJob, bindIp: string) {
    super();
    this.#job = job;
    this.#bindIp = bindIp;
  }

  get startedAt(): number {
    return this.#startedAt;
  }

  get metadataPath(): string {
    return path.join(this.#job.outputDir, `${this.#job.fileBaseName}.json`);
  }

  start(): void {
    fs.mkdirSync(this.#job.outputDir, { recursive: true });
    this.#startedAt = Date.now();
    this.#running = true;
  }

  addInput(input: RecorderInput): InputPorts {
    if (!this.#running) throw new CodedError(RecordingErrorCode.InvalidOperation, 'recording is not running');
    if (this.#inputs.has(input.inputId)) throw new CodedError(RecordingErrorCode.InvalidParameter, `input ${input.inputId} exists`);
    if ((input.kind === 'video' && this.#job.streamTypes === 'AudioOnly') || (input.kind === 'audio' && this.#job.streamTypes === 'VideoOnly')) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, `streamTypes ${this.#job.streamTypes} records no ${input.kind}`);
    }
    const location = path.join(this.#job.outputDir, `${this.#job.fileBaseName}_${input.inputId}.${individualExtension(input)}`);
    const pipeline = new InputPipeline(input, individualInputLaunch(input, this.#bindIp, location), 'file');
    let ports: InputPorts;
    try {
      ports = pipeline.start();
    } catch (error) {
      pipeline.close();
      throw error;
    }
    pipeline.on('firstFrame', () => this.safeEmit('firstFrame', input.inputId));
    pipeline.on('error', (message) => this.safeEmit('error', `input ${input.inputId}: ${message}`, false, input.inputId));
    this.#inputs.set(input.inputId, { pipeline, location, removed: false });
    return ports;
  }

  removeInput(inputId: string): void {
    const entry = this.#inputs.get(inputId);
    if (!entry || entry.removed) throw new CodedError(RecordingErrorCode.InvalidParameter, `no input ${inputId}`);
    entry.removed = true;
    // Finalize now (the participant left); the file stays in the set.
    void this.#finalize(entry.pipeline, 5000);
  }

  setInputPaused(inputId: string, _paused: boolean): void {
    // A paused producer sends nothing; the file simply has a gap. Nothing to rebuild.
    if (!this.#inputs.has(inputId)) throw new CodedError(RecordingErrorCode.InvalidParameter, `no input ${inputId}`);
  }

  setLayout(_layout: MixedVideoLayout, _maxResolutionUid?: string): void {
    // Layouts are a composite notion; accepted and ignored so the parent need not care about the mode.
  }

  decodedSize(_inputId: string): undefined {
    // Per-participant files keep the stream as sent: nothing is decoded.
    return undefined;
  }

  async stop(deadlineMs: number): Promise<RecordedFile[]> {
    if (!this.#running) return [];
    this.#running = false;
    await Promise.all([...this.#inputs.values()].map(({ pipeline }) => this.#finalize(pipeline, deadlineMs)));
    const files: RecordedFile[] = [];
    for (const { pipeline, location } of this.#inputs.values()) {
      const { input, firstFrameAt } = pipeline;
      if (firstFrameAt === undefined) {
        // Never received media: the (header-only or absent) file is noise, not a recording.
        fs.rmSync(location, { force: true });
        continue;
      }
      files.push({
        path: location,
        kind: input.kind,
        uid: input.uid,
        inputId: input.inputId,
        codec: codecName(input),
        startOffsetMs: Math.max(0, firstFrameAt - this.#startedAt),
      });
    }
    const metadata: IndividualMetadata = {
      recordingId: this.#job.recordingId,
      startedAt: new Date(this.#startedAt).toISOString(),
      files: files.map(({ path: filePath, ...rest }) => ({ file: path.basename(filePath), ...rest })),
    };
    fs.writeFileSync(this.metadataPath, JSON.stringify(metadata, null, 2));
    this.close();
    return [...files, { path: this.metadataPath, kind: 'metadata', codec: 'json', startOffsetMs: 0 }];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#running = false;
    for (const { pipeline } of this.#inputs.values()) pipeline.close();
    this.removeAllListeners();
  }

  /**
   * EOS only where media flowed; a file that never got any is removed at stop. The others are set
   * to NULL (matroska stays readable, robust MP4 keeps its last index update).
   */
  async #finalize(pipeline: InputPipeline, deadlineMs: number): Promise<void> {
    if (pipeline.pipeline.closed) return;
    if (pipeline.firstFrameAt !== undefined) {
      const ok = await pipeline.pipeline.eos(Math.max(500, deadlineMs));
      if (!ok) logger.warn(`finalize() | ${pipeline.input.inputId} did not reach EOS`);
    }
    pipeline.close();
  }
}
