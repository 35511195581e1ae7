/** The JSON a benchmark run writes, and the machine/version context every figure is measured in. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findProjectRoot } from '../../server/projectRoot';

export interface Target {
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  /** Stable key, e.g. composite.ours.cpuPerRecordingSecond */
  key: string;
  label: string;
  value: number | null;
  unit: string;
  target?: Target;
  /** Whether the target is met; absent without a target or a value. */
  met?: boolean;
}

export interface BenchResult {
  name: string;
  title: string;
  params: Record<string, unknown>;
  figures: Figure[];
  notes: string[];
  wallS: number;
  error?: string;
}

export interface Context {
  date: string;
  command: string;
  mode: 'quick' | 'full';
  machine: { cores: number; cpuModel: string; memoryGb: number; kernel: string; loadAverageAtStart: number[]; loadAverageAtEnd?: number[] };
  versions: { node: string; mediasoup: string; gstreamer: string; ffmpeg: string; x264?: string };
}

export interface Report {
  context: Context;
  benchmarks: BenchResult[];
}

function firstLine(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
  } catch {
    return 'unknown';
  }
}

export function collectContext(mode: 'quick' | 'full', command: string): Context {
  const root = findProjectRoot(__dirname);
  let mediasoup = 'unknown';
  try {
    mediasoup = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'mediasoup', 'package.json'), 'utf8')).version as string;
  } catch {
    // left unknown
  }
  const gst = /version ([\d.]+)/.exec(firstLine('gst-launch-1.0', ['--version']))?.[1] ?? 'unknown';
  const ffmpeg = /version (\S+)/.exec(firstLine('ffmpeg', ['-version']))?.[1] ?? 'unknown';
  const cpuModel = os.cpus()[0]?.model?.trim() ?? 'unknown';
  return {
    date: new Date().toISOString(),
    command,
    mode,
    machine: {
      cores: os.cpus().length,
      cpuModel,
      memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      kernel: os.release(),
      loadAverageAtStart: os.loadavg().map((value) => Math.round(value * 100) / 100),
    },
    versions: { node: process.version, mediasoup, gstreamer: gst, ffmpeg },
  };
}

export function figure(key: string, label: string, value: number | null | undefined, unit: string, target?: Target): Figure {
  const clean = value === undefined || value === null || !Number.isFinite(value) ? null : round(value);
  const result: Figure = { key, label, value: clean, unit };
  if (target) {
    result.target = target;
    if (clean !== null) result.met = target.op === '>=' ? clean >= target.value : clean <= target.value;
  }
  return result;
}

export function round(value: number): number {
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 1 : magnitude >= 1 ? 3 : 4;
  return Number(value.toFixed(digits));
}

export function formatValue(f: Figure): string {
  if (f.value === null) return 'n/a';
  return `${f.value} ${f.unit}`;
}

export function formatTarget(f: Figure): string {
  if (!f.target) return '';
  const mark = f.met === undefined ? '?' : f.met ? 'met' : 'MISSED';
  return `${f.target.op} ${f.target.value} (${mark})`;
}

export function contextLine(context: Context): string {
  const { machine, versions } = context;
  return (
    `${context.date} · ${context.mode} mode · ${machine.cores} cores ${machine.cpuModel}, ${machine.memoryGb} GB, load ${machine.loadAverageAtStart.join('/')} at start · ` +
    `mediasoup ${versions.mediasoup}, GStreamer ${versions.gstreamer}, FFmpeg ${versions.ffmpeg}, Node ${versions.node}`
  );
}

export function printTable(report: Report): string {
  const lines: string[] = [contextLine(report.context), ''];
  for (const bench of report.benchmarks) {
    lines.push(`== ${bench.title} (${bench.name}, ${bench.wallS.toFixed(0)} s)${bench.error ? `  ERROR: ${bench.error}` : ''}`);
    const width = Math.max(10, ...bench.figures.map((f) => f.label.length));
    for (const f of bench.figures) lines.push(`  ${f.label.padEnd(width)}  ${formatValue(f).padStart(22)}  ${formatTarget(f)}`);
    for (const note of bench.notes) lines.push(`  · ${note}`);
    lines.push('');
  }
  return lines.join('\n');
}
