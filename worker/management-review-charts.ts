import { all, el, markup, type Markup } from './html.ts';

/*
 * Trend charts as inline SVG: no script, no external resource, every label escaped like any other value. Bars for
 * counts per period, lines for levels at the end of each period; a missing value (a period not begun) is left out,
 * never drawn as zero. Series take their colour from the page's CSS (classes s0, s1, ... fill bars and dots, l0, l1, ...
 * stroke lines, k0, k1, ... the legend's keys), so the CSP needs nothing beyond inline style.
 */

export interface ChartSeries {
  name: string;
  values: readonly (number | null)[];
}

export interface ChartInput {
  /** Also the SVG's accessible name. */
  title: string;
  labels: readonly string[];
  series: readonly ChartSeries[];
  /** Appended to values in tooltips ("%"). */
  unit?: string;
  /** A fixed top of the scale (100 for percentages); otherwise a round number above the largest value. */
  max?: number;
}

const WIDTH = 520;
const HEIGHT = 210;
const LEFT = 42;
const RIGHT = 10;
const TOP = 14;
const BOTTOM = 44;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PLOT_H = HEIGHT - TOP - BOTTOM;
/** At most this many x labels are written; the others are thinned out (every value keeps its tooltip). */
const MAX_LABELS = 14;

const fixed = (value: number) => String(Math.round(value * 10) / 10);

/** Ticks at 1, 2 or 5 times a power of ten, about five of them, from 0 to at least `max`. */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 1 };
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough)!;
  const wholeStep = Math.max(step, 1);
  return { top: Math.ceil(max / wholeStep) * wholeStep, step: wholeStep };
}

function frame(input: ChartInput, top: number, step: number, body: Markup[]): Markup {
  const y = (value: number) => TOP + PLOT_H - (value / top) * PLOT_H;
  const slot = PLOT_W / Math.max(input.labels.length, 1);
  const every = Math.ceil(input.labels.length / MAX_LABELS);
  const grid: Markup[] = [];
  for (let tick = 0; tick <= top + 1e-9; tick += step) {
    grid.push(el('line', { class: tick === 0 ? 'axis' : 'grid', x1: fixed(LEFT), x2: fixed(LEFT + PLOT_W), y1: fixed(y(tick)), y2: fixed(y(tick)) }));
    grid.push(el('text', { class: 'tick', x: fixed(LEFT - 5), y: fixed(y(tick) + 3.5), 'text-anchor': 'end' }, fixed(tick)));
  }
  const labels = input.labels.map((label, index) =>
    index % every === 0
      ? el('text', { class: 'tick', x: fixed(LEFT + slot * (index + 0.5)), y: fixed(TOP + PLOT_H + 14), 'text-anchor': 'middle' }, label)
      : markup(''),
  );
  const empty = input.series.every((series) => series.values.every((value) => value === null));
  return el(
    'figure',
    { class: 'chart' },
    el(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        width: String(WIDTH),
        height: String(HEIGHT),
        role: 'img',
        'aria-label': input.title,
      },
      el('title', {}, input.title),
      ...grid,
      el('line', { class: 'axis', x1: fixed(LEFT), x2: fixed(LEFT), y1: fixed(TOP), y2: fixed(TOP + PLOT_H) }),
      ...labels,
      ...(empty
        ? [el('text', { class: 'none', x: fixed(LEFT + PLOT_W / 2), y: fixed(TOP + PLOT_H / 2), 'text-anchor': 'middle' }, 'no data in the period')]
        : body),
    ),
    el(
      'figcaption',
      {},
      el('b', {}, input.title),
      ...input.series.map((series, index) => el('span', { class: 'key' }, el('i', { class: `k${index % PALETTE_SIZE}` }, ''), series.name)),
    ),
  );
}

/** The number of series colours the page's CSS defines. */
export const PALETTE_SIZE = 4;

const topOf = (input: ChartInput) =>
  input.max ?? Math.max(0, ...input.series.flatMap((series) => series.values.filter((value): value is number => value !== null)));

/** Grouped bars: one group per label, one bar per series. */
export function barChart(input: ChartInput): Markup {
  const { top, step } = niceScale(topOf(input));
  const slot = PLOT_W / Math.max(input.labels.length, 1);
  const width = (slot * 0.8) / Math.max(input.series.length, 1);
  const bars = input.series.flatMap((series, seriesIndex) =>
    series.values.flatMap((value, index) => {
      if (value === null) return [];
      const height = (value / top) * PLOT_H;
      return [
        el(
          'rect',
          {
            class: `s${seriesIndex % PALETTE_SIZE}`,
            x: fixed(LEFT + slot * index + slot * 0.1 + width * seriesIndex),
            y: fixed(TOP + PLOT_H - height),
            width: fixed(Math.max(width - 1, 1)),
            height: fixed(height),
          },
          el('title', {}, `${input.labels[index]}: ${series.name} ${fixed(value)}${input.unit ?? ''}`),
        ),
      ];
    }),
  );
  return frame(input, top, step, bars);
}

/** Lines through each series' values, broken where a value is missing, with a dot per value. */
export function lineChart(input: ChartInput): Markup {
  const { top, step } = niceScale(topOf(input));
  const slot = PLOT_W / Math.max(input.labels.length, 1);
  const point = (value: number, index: number) => ({ x: LEFT + slot * (index + 0.5), y: TOP + PLOT_H - (value / top) * PLOT_H });
  const lines = input.series.flatMap((series, seriesIndex) => {
    const runs: { x: number; y: number }[][] = [];
    let run: { x: number; y: number }[] = [];
    series.values.forEach((value, index) => {
      if (value === null) {
        if (run.length > 0) runs.push(run);
        run = [];
      } else run.push(point(value, index));
    });
    if (run.length > 0) runs.push(run);
    const colour = `s${seriesIndex % PALETTE_SIZE}`;
    return [
      ...runs
        .filter((points) => points.length > 1)
        .map((points) => el('polyline', { class: `line l${seriesIndex % PALETTE_SIZE}`, points: points.map((p) => `${fixed(p.x)},${fixed(p.y)}`).join(' ') })),
      ...series.values.flatMap((value, index) => {
        if (value === null) return [];
        const p = point(value, index);
        return [
          el(
            'circle',
            { class: colour, cx: fixed(p.x), cy: fixed(p.y), r: '3' },
            el('title', {}, `${input.labels[index]}: ${series.name} ${fixed(value)}${input.unit ?? ''}`),
          ),
        ];
      }),
    ];
  });
  return frame(input, top, step, [all(...lines)]);
}
