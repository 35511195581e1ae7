/**
 * Watches the <video> elements of remote tiles and reports the box each one is drawn in (device
 * pixels) with the consumer it shows, so the server can send the simulcast layer that fills it:
 * nine small tiles must not each get the 720p layer. Reports settle first (a window being dragged
 * resizes every frame) and repeat only when the box or the consumer changed.
 */
export class VideoBoxReporter {
  readonly #report: (consumerId: string, size: { width: number; height: number }) => void;
  readonly #observer: ResizeObserver;
  readonly #timers = new Map<HTMLVideoElement, ReturnType<typeof setTimeout>>();
  readonly #reported = new WeakMap<HTMLVideoElement, string>();

  /** How long a box must keep its size before it is reported. */
  static readonly SETTLE_MS = 200;

  constructor(report: (consumerId: string, size: { width: number; height: number }) => void) {
    this.#report = report;
    this.#observer = new ResizeObserver((entries) => {
      for (const entry of entries) this.#schedule(entry.target as HTMLVideoElement);
    });
  }

  /** Starts watching `video`, or reports it again because it now shows another consumer. */
  watch(video: HTMLVideoElement): void {
    this.#observer.observe(video);
    this.#schedule(video);
  }

  unwatch(video: HTMLVideoElement): void {
    this.#observer.unobserve(video);
    clearTimeout(this.#timers.get(video));
    this.#timers.delete(video);
    this.#reported.delete(video);
  }

  #schedule(video: HTMLVideoElement): void {
    clearTimeout(this.#timers.get(video));
    this.#timers.set(
      video,
      setTimeout(() => {
        this.#timers.delete(video);
        this.#send(video);
      }, VideoBoxReporter.SETTLE_MS),
    );
  }

  #send(video: HTMLVideoElement): void {
    const consumerId = video.dataset.videoConsumer;
    if (!consumerId || !video.isConnected) return;
    const box = video.getBoundingClientRect();
    const width = Math.round(box.width * devicePixelRatio);
    const height = Math.round(box.height * devicePixelRatio);
    // A hidden tile (0×0) keeps what it had: it shows nothing, and will be measured when it shows.
    if (width === 0 || height === 0) return;
    const key = `${consumerId} ${width}x${height}`;
    if (this.#reported.get(video) === key) return;
    this.#reported.set(video, key);
    this.#report(consumerId, { width, height });
  }
}
