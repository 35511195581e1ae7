/** One sample line of Prometheus' text exposition format. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** Family name → its # TYPE (counter, gauge, histogram, summary). */
  types: Map<string, string>;
  samples: MetricSample[];
  /** Sum of the samples named `name` whose labels include `labels`; undefined when none matches. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;

/** Parses the text format strictly enough that a malformed line fails the test. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = raw!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    // prom-client writes NaN as "Nan" (event-loop stats before their first sample).
    if (Number.isNaN(value) && match[3]!.toLowerCase() !== 'nan') throw new Error(`bad sample value: ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return {
    types,
    samples,
    value(name, wanted = {}) {
      const matching = samples.filter((sample) => sample.name === name && Object.entries(wanted).every(([key, value]) => sample.labels[key] === value));
      return matching.length === 0 ? undefined : matching.reduce((sum, sample) => sum + sample.value, 0);
    },
  };
}

/** GET /metrics (with HTTP Basic when `credentials` is given) and its parsed body. */
export async function scrapeMetrics(httpUrl: string, credentials?: { appId: string; secret: string }): Promise<{ status: number; contentType: string | null; text: string; metrics: Exposition | undefined }> {
  const headers: Record<string, string> = credentials ? { authorization: `Basic ${Buffer.from(`${credentials.appId}:${credentials.secret}`).toString('base64')}` } : {};
  const response = await fetch(`${httpUrl}/metrics`, { headers });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), text, metrics: response.status === 200 ? parseExposition(text) : undefined };
}
