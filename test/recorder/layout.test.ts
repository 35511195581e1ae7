import t from 'tap';
import { computeLayout, MAX_LAYOUT_USERS, Tile } from '../../plugin/recording/layout';

const portrait = { width: 360, height: 640 };
const landscape = { width: 640, height: 360 };
const uids = (n: number): string[] => Array.from({ length: n }, (_, i) => `u${i}`);

function inside(tile: Tile, canvas: { width: number; height: number }): boolean {
  return tile.x >= 0 && tile.y >= 0 && tile.x + tile.width <= canvas.width && tile.y + tile.height <= canvas.height && tile.width > 0 && tile.height > 0;
}
function overlaps(a: Tile, b: Tile): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

t.test('no users → no tiles; bad canvas → TypeError', async (t) => {
  t.same(computeLayout(portrait, 'BestFit', []), []);
  t.throws(() => computeLayout({ width: 0, height: 640 }, 'Float', ['a']), TypeError);
  t.throws(() => computeLayout(portrait, 'Nope' as never, ['a']), TypeError);
});

t.test('every layout keeps even, in-canvas tiles for 1..17 users and drops extras', async (t) => {
  for (const layout of ['Float', 'BestFit', 'Vertical'] as const) {
    for (const canvas of [portrait, landscape]) {
      for (let n = 1; n <= MAX_LAYOUT_USERS + 2; n++) {
        const tiles = computeLayout(canvas, layout, uids(n), 'u1');
        t.equal(tiles.length, Math.min(n, MAX_LAYOUT_USERS), `${layout} n=${n} count`);
        for (const tile of tiles) {
          if (!inside(tile, canvas)) t.fail(`${layout} n=${n} ${JSON.stringify(tile)} outside`);
          if ([tile.x, tile.y, tile.width, tile.height].some((v) => v % 2 !== 0)) t.fail(`${layout} n=${n} odd geometry`);
        }
      }
    }
  }
});

t.test('BestFit: equal tiles on a near-square grid, no overlap, resizing with the count', async (t) => {
  t.same(computeLayout(landscape, 'BestFit', ['a']), [{ uid: 'a', x: 0, y: 0, width: 640, height: 360, zorder: 1 }]);
  t.same(
    computeLayout(landscape, 'BestFit', ['a', 'b']).map(({ x, y, width, height }) => [x, y, width, height]),
    [[0, 0, 320, 360], [320, 0, 320, 360]],
  );
  const three = computeLayout(landscape, 'BestFit', ['a', 'b', 'c']);
  t.same(three.map(({ x, y, width, height }) => [x, y, width, height]), [[0, 0, 320, 180], [320, 0, 320, 180], [0, 180, 320, 180]]);
  for (let n = 2; n <= 17; n++) {
    const tiles = computeLayout(portrait, 'BestFit', uids(n));
    const cols = Math.ceil(Math.sqrt(n));
    t.ok(tiles.every((tile) => Math.abs(tile.width - portrait.width / cols) <= 2), `n=${n} equal widths`);
    for (let i = 0; i < tiles.length; i++) for (let j = i + 1; j < tiles.length; j++) if (overlaps(tiles[i], tiles[j])) t.fail(`n=${n} overlap`);
  }
  t.equal(computeLayout(portrait, 'BestFit', uids(17)).length, 17);
});

t.test('Vertical: maxResolutionUid large on the left, others in ≤2 columns of 8 on the right', async (t) => {
  const tiles = computeLayout(portrait, 'Vertical', ['a', 'b', 'c'], 'c');
  t.equal(tiles[0].uid, 'c');
  t.same([tiles[0].x, tiles[0].y, tiles[0].height], [0, 0, 640]);
  const big = tiles[0];
  for (const small of tiles.slice(1)) {
    t.ok(small.x >= big.x + big.width, 'small tiles right of the big one');
    t.ok(small.width * small.height < big.width * big.height / 4, 'small is small');
  }
  const full = computeLayout(portrait, 'Vertical', uids(17), 'u5');
  t.equal(full[0].uid, 'u5');
  const columns = new Set(full.slice(1).map((tile) => tile.x));
  t.equal(columns.size, 2, 'two columns');
  for (const x of columns) t.equal(full.filter((tile) => tile.x === x).length, 8, 'eight per column');
  t.equal(computeLayout(portrait, 'Vertical', ['a', 'b'], 'missing')[0].uid, 'a', 'unknown maxResolutionUid → first user');
  t.same(computeLayout(portrait, 'Vertical', ['a']), [{ uid: 'a', x: 0, y: 0, width: 360, height: 640, zorder: 1 }]);
});

t.test('Float: the first user fills the canvas, the others float above it without overlapping each other', async (t) => {
  const tiles = computeLayout(landscape, 'Float', uids(17));
  t.same(tiles[0], { uid: 'u0', x: 0, y: 0, width: 640, height: 360, zorder: 1 });
  const small = tiles.slice(1);
  t.ok(small.every((tile) => tile.zorder > tiles[0].zorder), 'small windows on top');
  for (let i = 0; i < small.length; i++) for (let j = i + 1; j < small.length; j++) if (overlaps(small[i], small[j])) t.fail('overlap');
  t.equal(computeLayout(landscape, 'Float', ['a', 'b'], 'b')[0].uid, 'b', 'maxResolutionUid is the full-canvas user when given');
});

t.test('maxResolutionUid beyond the first 17 users is still drawn, as the large tile', async (t) => {
  const many = uids(20);
  for (const layout of ['Vertical', 'Float'] as const) {
    const tiles = computeLayout(portrait, layout, many, 'u19');
    t.equal(tiles.length, MAX_LAYOUT_USERS, `${layout}: 17 tiles`);
    t.equal(tiles[0].uid, 'u19', `${layout}: the 20th user is the large tile`);
    t.same(tiles.slice(1).map((tile) => tile.uid), many.slice(0, MAX_LAYOUT_USERS - 1), `${layout}: the others in order, the cut after the 16th`);
  }
  const bestFit = computeLayout(portrait, 'BestFit', many, 'u19');
  t.equal(bestFit.length, MAX_LAYOUT_USERS);
  t.same(bestFit.map((tile) => tile.uid), [...many.slice(0, MAX_LAYOUT_USERS - 1), 'u19'], 'BestFit: the chosen user is drawn, order kept');
  t.same(computeLayout(portrait, 'BestFit', many).map((tile) => tile.uid), many.slice(0, MAX_LAYOUT_USERS), 'without maxResolutionUid the first 17');
});
