/**
 * Composite layouts of the Agora seed's TranscodingConfig, as pure geometry: canvas + layout + the
 * ordered list of uids → one rectangle per uid. No GStreamer here, so the geometry is unit-tested alone.
 *
 * - Float: the primary user (maxResolutionUid if present, else the first) fills the canvas; the others
 *   float over it in small windows, four per row, rows stacked upwards from the bottom-right corner.
 * - BestFit: equal tiles on a near-square grid (cols = ceil(sqrt(n))), resizing with the count.
 * - Vertical: maxResolutionUid (else the first) large on the left, the others small on the right in at
 *   most two columns of eight.
 * All layouts hold at most MAX_LAYOUT_USERS users; extra uids are dropped (not drawn), but never
 * maxResolutionUid: the chosen user is kept first and the cut falls on the last of the others.
 */

import { MIXED_VIDEO_LAYOUTS } from '../../signaling/schemas/common';

export { MIXED_VIDEO_LAYOUTS };
export type MixedVideoLayout = (typeof MIXED_VIDEO_LAYOUTS)[number];
export const MAX_LAYOUT_USERS = 17;

export interface Canvas {
  width: number;
  height: number;
}

export interface Tile {
  uid: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Higher is drawn on top. The canvas background is below zorder 1. */
  zorder: number;
}

/** I420 wants even sizes and offsets; rounding down keeps every tile inside the canvas. */
function even(value: number): number {
  return Math.max(0, Math.floor(value / 2) * 2);
}

export function computeLayout(
  canvas: Canvas,
  layout: MixedVideoLayout,
  uids: readonly string[],
  maxResolutionUid?: string,
): Tile[] {
  if (!Number.isInteger(canvas.width) || !Number.isInteger(canvas.height) || canvas.width < 16 || canvas.height < 16) {
    throw new TypeError(`canvas must be at least 16x16 integers, got ${canvas.width}x${canvas.height}`);
  }
  const unique = [...new Set(uids)];
  const drawn = withPrimaryFirst(unique, maxResolutionUid).slice(0, MAX_LAYOUT_USERS);
  if (drawn.length === 0) return [];
  switch (layout) {
    case 'BestFit': {
      // BestFit has no large tile: users keep their order, only who is drawn follows maxResolutionUid.
      const kept = new Set(drawn);
      return bestFit(canvas, unique.filter((uid) => kept.has(uid)));
    }
    case 'Vertical':
      return vertical(canvas, drawn);
    case 'Float':
      return float(canvas, drawn);
    default:
      throw new TypeError(`unknown layout ${String(layout)}`);
  }
}

function withPrimaryFirst(uids: string[], primary?: string): string[] {
  if (primary === undefined || !uids.includes(primary)) return uids;
  return [primary, ...uids.filter((uid) => uid !== primary)];
}

function bestFit(canvas: Canvas, uids: string[]): Tile[] {
  const cols = Math.ceil(Math.sqrt(uids.length));
  const rows = Math.ceil(uids.length / cols);
  return uids.map((uid, index) => {
    const col = index % cols;
    const row = Math.floor(index / cols);
    const x = even((col * canvas.width) / cols);
    const y = even((row * canvas.height) / rows);
    return {
      uid,
      x,
      y,
      width: even(((col + 1) * canvas.width) / cols) - x,
      height: even(((row + 1) * canvas.height) / rows) - y,
      zorder: 1,
    };
  });
}

function vertical(canvas: Canvas, uids: string[]): Tile[] {
  const [primary, ...others] = uids;
  if (others.length === 0) return [{ uid: primary, x: 0, y: 0, width: even(canvas.width), height: even(canvas.height), zorder: 1 }];
  const columns = others.length > 8 ? 2 : 1;
  const colWidth = even(canvas.width / 5);
  const smallHeight = even(canvas.height / 8);
  const bigWidth = even(canvas.width) - columns * colWidth;
  const tiles: Tile[] = [{ uid: primary, x: 0, y: 0, width: bigWidth, height: even(canvas.height), zorder: 1 }];
  others.forEach((uid, index) => {
    const col = Math.floor(index / 8);
    const row = index % 8;
    tiles.push({ uid, x: bigWidth + col * colWidth, y: row * smallHeight, width: colWidth, height: smallHeight, zorder: 1 });
  });
  return tiles;
}

function float(canvas: Canvas, uids: string[]): Tile[] {
  const [primary, ...others] = uids;
  const tiles: Tile[] = [{ uid: primary, x: 0, y: 0, width: even(canvas.width), height: even(canvas.height), zorder: 1 }];
  // Small windows keep the canvas's aspect ratio at a fifth of its size, with a small margin.
  const width = even(canvas.width / 5);
  const height = even(canvas.height / 5);
  const margin = even(Math.min(canvas.width, canvas.height) / 60) || 2;
  others.forEach((uid, index) => {
    const col = index % 4;
    const row = Math.floor(index / 4);
    tiles.push({
      uid,
      x: even(canvas.width - (col + 1) * (width + margin)),
      y: even(canvas.height - (row + 1) * (height + margin)),
      width,
      height,
      zorder: 2,
    });
  });
  return tiles;
}
