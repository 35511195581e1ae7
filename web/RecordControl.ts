import type { RecordState } from '../signaling/client/index';

/**
 * The record control: follows recordState (disabled in None, start in Ready, stop in Running with the
 * elapsed time) and shows upload progress of the last recording.
 */
export class RecordControl {
  readonly #state: HTMLElement;
  readonly #hint: HTMLElement;
  readonly #button: HTMLButtonElement;
  readonly #elapsed: HTMLElement;
  readonly #progress: HTMLElement;
  #current: RecordState = 'None';
  #runningSince = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;
  #canRecord = false;
  #joined = false;
  #target = '';

  constructor(elements: { state: HTMLElement; hint: HTMLElement; button: HTMLButtonElement; elapsed: HTMLElement; progress: HTMLElement }) {
    this.#state = elements.state;
    this.#hint = elements.hint;
    this.#button = elements.button;
    this.#elapsed = elements.elapsed;
    this.#progress = elements.progress;
  }

  get state(): RecordState {
    return this.#current;
  }

  setJoined(joined: boolean, canRecord: boolean): void {
    this.#joined = joined;
    this.#canRecord = canRecord;
    this.#render();
  }

  setState(state: RecordState): void {
    if (state === 'Running' && this.#current !== 'Running') {
      this.#runningSince = Date.now();
      this.#timer = setInterval(() => this.#renderElapsed(), 500);
    }
    if (state !== 'Running' && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    this.#current = state;
    this.#render();
  }

  /** Where the next recording goes (the `recordParam` channel property: no secrets in it). */
  setTarget(param: unknown): void {
    const target = param as { vendor?: string; bucket?: string; fileName?: string; setBy?: string } | null | undefined;
    this.#target = target?.vendor
      ? ` Recordings go to ${target.vendor}${target.bucket ? ` bucket ${target.bucket}` : ''}: ${target.fileName ?? ''} (chosen by ${target.setBy ?? 'unknown'}).`
      : '';
    this.#render();
  }

  /** While a start/stop request travels, the button waits for the answer. */
  setBusy(busy: boolean): void {
    this.#busy = busy;
    this.#render();
  }

  showProgress(text: string | undefined): void {
    this.#progress.hidden = text === undefined;
    this.#progress.textContent = text ?? '';
  }

  #render(): void {
    const state = this.#current;
    this.#state.textContent = state;
    this.#state.dataset.state = state;
    this.#button.textContent = state === 'Running' ? 'Stop recording' : 'Start recording';
    this.#button.dataset.action = state === 'Running' ? 'stop' : 'start';
    this.#button.disabled = !this.#joined || state === 'None' || this.#busy || !this.#canRecord;
    this.#elapsed.hidden = state !== 'Running';
    this.#hint.textContent = !this.#joined
      ? 'Join a channel to record it.'
      : !this.#canRecord
        ? 'Your token does not allow recording.'
        : state === 'None'
          ? 'Recording is not available in this channel (no storage is configured).'
          : state === 'Ready'
            ? `Ready to record.${this.#target}`
            : 'This channel is being recorded.';
    this.#renderElapsed();
  }

  #renderElapsed(): void {
    const seconds = this.#current === 'Running' ? Math.floor((Date.now() - this.#runningSince) / 1000) : 0;
    this.#elapsed.textContent = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  }
}
