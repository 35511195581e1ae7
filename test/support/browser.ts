import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { findProjectRoot } from '../../server/projectRoot';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console lines and page errors, for failure messages. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * One person's browser: Debian's Chromium with a fresh profile (its own --user-data-dir) and, by
 * default, the fake camera (moving pattern) and microphone (beeps) granted without a prompt.
 * `media: 'denied'` keeps the fake devices but refuses the permission, like a user clicking Block.
 * `extraArgs` go to Chromium as they are (e.g. trusting one self-signed certificate).
 */
export async function launchBrowser(options: { media?: 'granted' | 'denied'; extraArgs?: string[] } = {}): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup.sh --test\` (installs Debian's chromium)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-chromium-'));
  const denied = options.media === 'denied';
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, '--use-fake-device-for-media-stream', ...(denied ? ['--deny-permission-prompts'] : FAKE_MEDIA.slice(1)), ...(options.extraArgs ?? [])],
    viewport: { width: 1100, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const logs: string[] = [];
  page.on('console', (message) => logs.push(`[console.${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => logs.push(`[pageerror] ${error.message}`));
  let closed = false;
  return {
    context,
    page,
    logs,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Records every RTCPeerConnection the pages of `browser` make (window.peerConnections), so a test
 * can read their getStats(): which candidate pair carries media, what the encoder did. Call before
 * the page loads.
 */
export async function watchPeerConnections(browser: TestBrowser): Promise<void> {
  await browser.context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const made: RTCPeerConnection[] = [];
    (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections = made;
    window.RTCPeerConnection = class extends Native {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        made.push(this);
      }
    } as typeof RTCPeerConnection;
  });
}

/** test-artifacts/ at the repository root (gitignored): screenshots and other evidence. */
export function artifactPath(name: string): string {
  const dir = path.join(findProjectRoot(__dirname), 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
