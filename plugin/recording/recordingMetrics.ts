import { Counter, Gauge, type Registry } from 'prom-client';
import type { RecordingPhase } from './ChannelRecording';
import { RecorderCpuMeter } from './RecorderCpuMeter';
import type { RecordingEvent } from '../../signaling/recordingEvent';
import type { RecordingEngine } from './RecordingEngine';
import type { RecordingMode } from './recorder/protocol';

const PHASES: readonly RecordingPhase[] = ['starting', 'running', 'stopping', 'stopped', 'failed'];
const MODES: readonly RecordingMode[] = ['composite', 'individual'];
/** Phases in which a recording has a recorder process. */
const WITH_RECORDER = new Set<RecordingPhase>(['starting', 'running', 'stopping']);

/**
 * The recording families: recordings the engine holds by phase and mode, recordings started and
 * failed, recorder processes and the CPU seconds they used.
 */
export function registerRecordingMetrics(registry: Registry, engine: RecordingEngine, options: { cpuIntervalMs?: number } = {}): { close(): void } {
  const registers = [registry];
  const livePids = (): number[] =>
    engine
      .held()
      .filter((status) => WITH_RECORDER.has(status.phase))
      .map((status) => engine.get(status.recordingId)?.recorderPid)
      .filter((pid): pid is number => pid !== undefined);
  const cpu = new RecorderCpuMeter(livePids, options.cpuIntervalMs === undefined ? {} : { intervalMs: options.cpuIntervalMs });
  new Gauge({
    name: 'confrec_recordings',
    help: 'Recordings this server holds, by phase and mode.',
    labelNames: ['phase', 'mode'],
    registers,
    collect() {
      const counts = new Map<string, number>();
      for (const status of engine.held()) counts.set(`${status.phase} ${status.mode}`, (counts.get(`${status.phase} ${status.mode}`) ?? 0) + 1);
      for (const phase of PHASES) for (const mode of MODES) this.set({ phase, mode }, counts.get(`${phase} ${mode}`) ?? 0);
    },
  });
  const started = new Counter({ name: 'confrec_recordings_started_total', help: 'Recordings whose recorder started writing, by mode.', labelNames: ['mode'], registers });
  const failed = new Counter({ name: 'confrec_recording_failures_total', help: 'Recordings ended by a fatal error, by error code.', labelNames: ['code'], registers });
  for (const mode of MODES) started.inc({ mode }, 0);
  new Gauge({
    name: 'confrec_recorder_processes',
    help: 'Recorder processes running.',
    registers,
    collect() {
      this.set(cpu.sample().processes);
    },
  });
  new Counter({
    name: 'confrec_recorder_cpu_seconds_total',
    help: 'User and system CPU seconds used by recorder processes, ended ones included.',
    registers,
    collect() {
      this.reset();
      this.inc(cpu.sample().totalSeconds);
    },
  });
  const onEvent = (event: RecordingEvent): void => {
    if (event.type === 'started') {
      started.inc({ mode: engine.get(event.recordingId)?.config.recordingMode ?? 'composite' });
      cpu.watch();
    } else if (event.type === 'fatalError') {
      failed.inc({ code: event.code });
    }
  };
  engine.eventLog.on('appended', onEvent);
  return {
    close() {
      engine.eventLog.off('appended', onEvent);
      cpu.close();
    },
  };
}
