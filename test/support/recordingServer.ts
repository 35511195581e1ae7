import type { RecordingPlugin } from '../../plugin/recording/RecordingPlugin';
import { createRecordingPlugin, RecordingPluginOverrides } from '../../plugin/recording/createRecordingPlugin';
import type { ServerConfig } from '../../config/defaults';
import type { DeepPartial } from '../../server/config';
import { startTestServer, TestServer } from './server';

export interface RecordingTestServer extends TestServer {
  recording: RecordingPlugin;
}

/** A test server with the recording plugin (real recorder processes, local storage under tmp). */
export async function startRecordingServer(options: { overrides?: DeepPartial<ServerConfig>; plugin?: RecordingPluginOverrides } = {}): Promise<RecordingTestServer> {
  let recording: RecordingPlugin | undefined;
  const env = await startTestServer({
    ...(options.overrides ? { overrides: options.overrides } : {}),
    plugins: [
      async (context) => {
        recording = await createRecordingPlugin(context, {
          ...options.plugin,
          uploads: { retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 200 }, ...options.plugin?.uploads },
        });
        return recording;
      },
    ],
  });
  return Object.assign(env, { recording: recording! });
}

export async function until(condition: () => boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
