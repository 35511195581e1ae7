import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { installWebRoutes } from '../../server/http/webRoutes';
import { findProjectRoot } from '../../server/projectRoot';
import { RecordingTestServer, startRecordingServer } from './recordingServer';

/** Builds dist/web (a no-op when up to date): what `npm start` does through scripts/setup.sh. */
export function buildWeb(): void {
  execFileSync(process.execPath, [path.join(findProjectRoot(__dirname), 'scripts', 'build-web.js')], { stdio: 'inherit' });
}

/** A real server with the recording plugin (local default storage) and the web page + recordings API. */
export async function startWebServer(options: Parameters<typeof startRecordingServer>[0] = {}): Promise<RecordingTestServer> {
  buildWeb();
  const env = await startRecordingServer(options);
  installWebRoutes(env.server);
  return env;
}
