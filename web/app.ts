import { cameraCapture, CodedError, getUserTracks, MediaAccessError, MediaChannel, SIMULCAST_BY_DEFAULT } from '../signaling/client/index';
import { describeInsecurePage, describeJoinError, describeLeft, describeMediaError, describeRecordError, describeSelfSigned } from './messages';
import { RecordControl } from './RecordControl';
import { RecordingList } from './RecordingList';
import { TileGrid } from './TileGrid';

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page lacks #${id}`);
  return element as T;
}

type MessageKind = 'error' | 'warning' | 'info';

/** GET /tls.json: what the server's certificate is. */
interface TlsInfo {
  https: boolean;
  selfSigned: boolean;
  fingerprint256?: string;
}

function simulcastParameter(value: string | null): boolean {
  if (value === '0') return false;
  if (value === '1') return true;
  return SIMULCAST_BY_DEFAULT;
}

/**
 * The conference page: a join form (prefilled from ?channel=&token=&name=), video tiles, the record
 * control, upload progress and the channel's recordings. Every failure ends up as a sentence in
 * #message; nothing needs the developer console.
 */
class ConferencePage {
  readonly #serverUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  // ?simulcast=0 sends the camera as one stream at the browser's default size; ?simulcast=1 as
  // three layers captured at 1280×720; neither: the SDK's default.
  readonly #simulcast = simulcastParameter(new URLSearchParams(location.search).get('simulcast'));
  readonly #camera = cameraCapture(this.#simulcast);
  readonly #channel = new MediaChannel({ serverUrl: this.#serverUrl, simulcast: this.#simulcast });
  readonly #tiles = new TileGrid(
    $('tiles'),
    () => this.#say('info', 'Click anywhere on the page to hear the others.'),
    // Best effort: a consumer that closed meanwhile, or a dropped connection, just keeps its layer.
    (consumerId, size) => void this.#channel.setRenderSize({ consumerId }, size).catch(() => undefined),
  );
  readonly #record = new RecordControl({
    state: $('record-state'),
    hint: $('record-hint'),
    button: $<HTMLButtonElement>('record-button'),
    elapsed: $('record-elapsed'),
    progress: $('upload-progress'),
  });
  readonly #recordings = new RecordingList(
    { panel: $('recordings-panel'), list: $('recordings'), empty: $('recordings-empty'), player: $<HTMLVideoElement>('player') },
    (text) => this.#say('warning', text),
  );
  #localTracks: MediaStreamTrack[] = [];
  #joining = false;

  start(): void {
    const params = new URLSearchParams(location.search);
    for (const field of ['channel', 'name', 'token'] as const) {
      const value = params.get(field);
      if (value) $<HTMLInputElement>(field).value = value;
    }
    if (params.has('token')) {
      // The token grants the channel: keep it out of history, bookmarks and Referer once it is in the form.
      params.delete('token');
      const query = params.toString();
      history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
    }
    $('join-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#join();
    });
    $('leave').addEventListener('click', () => void this.#leave());
    $('record-button').addEventListener('click', () => void this.#toggleRecord());
    $('mic').addEventListener('click', (event) => this.#toggleTrack('audio', event.currentTarget as HTMLButtonElement));
    $('camera').addEventListener('click', (event) => this.#toggleTrack('video', event.currentTarget as HTMLButtonElement));
    $('screen').addEventListener('click', () => void this.#toggleScreen());
    $('recordings-refresh').addEventListener('click', () => void this.#recordings.refresh());
    document.addEventListener('click', () => this.#tiles.resumePlayback());
    this.#wireChannel();
    this.#record.setJoined(false, false);
    void this.#explainConnectionSecurity();
  }

  /**
   * Off localhost, browsers give the camera only to https:// pages; a self-signed certificate is
   * accepted once by the user, who should compare its fingerprint with the one the server printed.
   */
  async #explainConnectionSecurity(): Promise<void> {
    const note = $('tls-note');
    if (!window.isSecureContext) {
      this.#say('warning', describeInsecurePage(location.host));
      return;
    }
    if (location.protocol !== 'https:') return;
    const info = (await fetch('/tls.json').then((response) => (response.ok ? response.json() : undefined)).catch(() => undefined)) as TlsInfo | undefined;
    if (!info?.selfSigned) return;
    note.textContent = describeSelfSigned(info.fingerprint256);
    note.hidden = false;
  }

  #wireChannel(): void {
    const channel = this.#channel;
    channel.on('propertyChange', (change) => {
      if (change.recordState) this.#record.setState(channel.recordState);
      if (change.changed.includes('recordParam')) this.#record.setTarget(channel.properties.recordParam);
    });
    channel.on('connectionStateChange', (change) => {
      const label = $('connection');
      label.dataset.state = change.state;
      switch (change.state) {
        case 'idle':
          label.textContent = 'Not connected';
          break;
        case 'connecting':
          label.textContent = 'Connecting…';
          break;
        case 'connected':
          label.textContent = `In channel ${channel.channelId} as ${channel.uid}`;
          if (this.#wasReconnecting) this.#say('info', 'Reconnected to the server.');
          this.#wasReconnecting = false;
          break;
        case 'reconnecting':
          this.#wasReconnecting = true;
          label.textContent = 'Reconnecting…';
          this.#say('warning', `Lost the connection to the server. Reconnecting (attempt ${change.attempt} of ${change.maxAttempts})…`);
          break;
      }
    });
    channel.on('peerJoined', (peer) => this.#tiles.addPeer(peer));
    channel.on('peerLeft', (peer) => this.#tiles.removePeer(peer));
    channel.on('trackAdded', (peer, track) => this.#tiles.addTrack(peer, track));
    channel.on('trackRemoved', (peer, track) => this.#tiles.removeTrack(peer, track));
    channel.on('recordingProgress', ({ percent }) => this.#record.showProgress(`Saving the recording: ${percent}%`));
    channel.on('recordingEvent', (event) => {
      switch (event.type) {
        case 'stopped':
          this.#record.showProgress('Saving the recording…');
          break;
        case 'uploaded':
          this.#record.showProgress(`Recording saved: ${event.fileName ?? ''}`);
          void this.#recordings.refresh();
          break;
        case 'backuped':
          this.#say('warning', `The storage could not take the recording now; it is kept in the backup and will be uploaded later (${event.fileName ?? ''}).`);
          break;
        case 'recordParamRefused':
          this.#say('warning', `The record settings given at join were refused: ${event.message ?? event.code}`);
          break;
        case 'recorderFailure':
        case 'uploaderFailure':
        case 'fatalError':
          this.#say('error', `Recording problem (${event.code ?? event.type}): ${event.message ?? 'see the server log'}`);
          break;
      }
    });
    channel.on('left', (error) => this.#afterLeft(describeLeft(error)));
  }

  #wasReconnecting = false;

  async #join(): Promise<void> {
    if (this.#joining) return;
    const channelId = $<HTMLInputElement>('channel').value.trim();
    const name = $<HTMLInputElement>('name').value.trim() || 'guest';
    const token = $<HTMLTextAreaElement>('token').value.trim();
    if (!token) {
      this.#say('error', 'Paste a join token first (npm run token -- --channel demo --uid alice prints one).');
      return;
    }
    this.#joining = true;
    $<HTMLButtonElement>('join').disabled = true;
    this.#say(undefined);
    try {
      await this.#channel.join(channelId, { token, displayName: name });
    } catch (error) {
      this.#say('error', describeJoinError(error, { channel: channelId, name, serverUrl: this.#serverUrl }));
      return;
    } finally {
      this.#joining = false;
      $<HTMLButtonElement>('join').disabled = false;
    }
    $('join-panel').hidden = true;
    $('call').hidden = false;
    this.#record.setJoined(true, this.#channel.privileges.record);
    this.#record.setState(this.#channel.recordState);
    this.#record.setTarget(this.#channel.properties.recordParam);
    this.#recordings.show(channelId, token);
    await this.#publishCameraAndMicrophone(name);
  }

  async #publishCameraAndMicrophone(name: string): Promise<void> {
    if (!this.#channel.privileges.publish) {
      this.#tiles.showLocal(undefined, `${name} (watching only: your token does not allow publishing)`);
      return;
    }
    let tracks: MediaStreamTrack[];
    try {
      tracks = await this.#captureCameraAndMicrophone();
    } catch (error) {
      this.#tiles.showLocal(undefined, `${name} (not sending)`);
      this.#say('warning', describeMediaError(error));
      return;
    }
    this.#localTracks = tracks;
    this.#tiles.showLocal(new MediaStream(tracks.filter((track) => track.kind === 'video')), `${name} (you)`);
    try {
      for (const track of tracks) {
        if (track.kind === 'video') await this.#channel.publishCamera({ track });
        else await this.#channel.publishMicrophone({ track });
      }
    } catch (error) {
      this.#say('error', describeMediaError(error));
    }
  }

  /** Camera and microphone; when one of them is missing, the other alone. */
  async #captureCameraAndMicrophone(): Promise<MediaStreamTrack[]> {
    try {
      return await getUserTracks({ audio: true, video: this.#camera });
    } catch (error) {
      if (!(error instanceof MediaAccessError) || error.code !== 'DEVICE_NOT_FOUND') throw error;
      for (const only of [{ video: this.#camera }, { audio: true }]) {
        const tracks = await getUserTracks(only).catch(() => undefined);
        if (tracks) {
          this.#say('warning', `Only your ${only.video ? 'camera' : 'microphone'} was found; the others will ${only.video ? 'not hear' : 'not see'} you.`);
          return tracks;
        }
      }
      throw error;
    }
  }

  async #leave(): Promise<void> {
    await this.#channel.leave();
    this.#afterLeft(undefined);
  }

  #afterLeft(message: string | undefined): void {
    for (const track of this.#localTracks) track.stop();
    this.#localTracks = [];
    this.#tiles.clear();
    $('join-panel').hidden = false;
    $('call').hidden = true;
    this.#record.setJoined(false, false);
    this.#record.setState('None');
    if (message) this.#say('error', message);
    else this.#say(undefined);
  }

  async #toggleRecord(): Promise<void> {
    const start = this.#channel.recordState !== 'Running';
    this.#record.setBusy(true);
    try {
      const accepted = await this.#channel.enableRecord(start, null);
      if (!accepted) this.#say('warning', start ? 'Recording cannot start in the current state.' : 'The channel is not being recorded.');
      else if (start) this.#record.showProgress(undefined);
    } catch (error) {
      this.#say('error', describeRecordError(error));
    } finally {
      this.#record.setBusy(false);
    }
  }

  #toggleTrack(kind: 'audio' | 'video', button: HTMLButtonElement): void {
    const track = this.#localTracks.find((candidate) => candidate.kind === kind);
    if (!track) return;
    // Disabled tracks keep flowing as silence / black frames: cheap, and the recording keeps its layout.
    track.enabled = !track.enabled;
    button.setAttribute('aria-pressed', String(track.enabled));
    if (kind === 'audio') button.textContent = track.enabled ? 'Mute microphone' : 'Unmute microphone';
    else button.textContent = track.enabled ? 'Turn camera off' : 'Turn camera on';
  }

  async #toggleScreen(): Promise<void> {
    const button = $<HTMLButtonElement>('screen');
    if (this.#channel.publications.some((publication) => publication.source === 'screen')) {
      await this.#channel.unpublish('screen');
      button.textContent = 'Share screen';
      return;
    }
    try {
      const publication = await this.#channel.publishScreen();
      button.textContent = 'Stop sharing';
      publication.track.addEventListener('ended', () => (button.textContent = 'Share screen'));
    } catch (error) {
      this.#say('warning', describeMediaError(error));
    }
  }

  #say(kind: MessageKind | undefined, text = ''): void {
    const box = $('message');
    box.hidden = kind === undefined;
    box.dataset.kind = kind ?? '';
    box.textContent = text;
  }
}

try {
  new ConferencePage().start();
} catch (error) {
  const box = document.getElementById('message');
  if (box) {
    box.hidden = false;
    box.dataset.kind = 'error';
    box.textContent = `The page could not start: ${error instanceof CodedError ? error.message : String(error)}`;
  }
}
