/** A finished recording as /api/recordings lists it. */
interface RecordingEntry {
  objectKey: string;
  state: 'recording' | 'uploading' | 'stored' | 'elsewhere' | 'failed';
  percent: number;
  size: number;
  time: string;
  vendor: string;
  url?: string;
}

/** The list of the channel's recordings, with an in-page player for those stored on this server. */
export class RecordingList {
  readonly #panel: HTMLElement;
  readonly #list: HTMLElement;
  readonly #empty: HTMLElement;
  readonly #player: HTMLVideoElement;
  readonly #onError: (text: string) => void;
  #channel = '';
  #token = '';

  constructor(elements: { panel: HTMLElement; list: HTMLElement; empty: HTMLElement; player: HTMLVideoElement }, onError: (text: string) => void) {
    this.#panel = elements.panel;
    this.#list = elements.list;
    this.#empty = elements.empty;
    this.#player = elements.player;
    this.#onError = onError;
  }

  show(channel: string, token: string): void {
    this.#channel = channel;
    this.#token = token;
    this.#panel.hidden = false;
    void this.refresh();
  }

  async refresh(): Promise<void> {
    if (!this.#channel) return;
    let body: { recordings?: RecordingEntry[]; error?: { code: string; message: string } };
    try {
      const response = await fetch(`/api/recordings?channel=${encodeURIComponent(this.#channel)}`, { headers: { authorization: `Bearer ${this.#token}` } });
      body = await response.json();
    } catch {
      this.#onError('Could not load the list of recordings: the server did not answer.');
      return;
    }
    if (body.error?.code === 'FORBIDDEN') {
      // The token lacks the recordings privilege (an audience token by default): no list to show.
      this.#panel.hidden = true;
      this.#channel = '';
      return;
    }
    if (body.error) {
      this.#onError(`Could not load the list of recordings (${body.error.code}): ${body.error.message}`);
      return;
    }
    this.#render(body.recordings ?? []);
  }

  #render(recordings: RecordingEntry[]): void {
    this.#empty.hidden = recordings.length > 0;
    this.#list.replaceChildren(
      ...recordings.map((entry) => {
        const item = document.createElement('li');
        item.dataset.key = entry.objectKey;
        item.dataset.state = entry.state;
        const name = document.createElement('span');
        name.textContent = entry.objectKey;
        const meta = document.createElement('span');
        meta.className = 'meta';
        meta.textContent = `${new Date(entry.time).toLocaleString()} · ${describe(entry)}`;
        item.append(name, meta);
        if (entry.url) {
          const play = document.createElement('button');
          play.type = 'button';
          play.className = 'small play';
          play.textContent = 'Play';
          play.addEventListener('click', () => this.#play(entry.url!));
          const download = document.createElement('a');
          download.href = entry.url;
          download.download = entry.objectKey.split('/').pop() ?? 'recording';
          download.textContent = 'Download';
          item.append(play, download);
        }
        return item;
      }),
    );
  }

  #play(url: string): void {
    this.#player.hidden = false;
    this.#player.src = url;
    void this.#player.play().catch(() => undefined);
  }
}

function describe(entry: RecordingEntry): string {
  switch (entry.state) {
    case 'recording':
      return 'recording…';
    case 'uploading':
      return `saving ${entry.percent}%`;
    case 'failed':
      return 'saving failed';
    case 'elsewhere':
      return `stored in ${entry.vendor}`;
    case 'stored':
      return `${(entry.size / 1e6).toFixed(1)} MB`;
  }
}
