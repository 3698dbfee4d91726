import { describe, expect, it } from 'vitest';
import { barChart, lineChart, niceScale } from '../../worker/management-review-charts.ts';

describe('trend charts', () => {
  it('scales to a round number above the largest value, in steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceScale(0)).toEqual({ top: 1, step: 1 });
    expect(niceScale(3)).toEqual({ top: 3, step: 1 });
    expect(niceScale(7)).toEqual({ top: 8, step: 2 });
    expect(niceScale(26)).toEqual({ top: 30, step: 10 });
    expect(niceScale(100)).toEqual({ top: 100, step: 20 });
    expect(niceScale(1234)).toEqual({ top: 1500, step: 500 });
  });

  it('breaks a line where a value is missing and draws no point there, rather than a zero', () => {
    const svg = lineChart({ title: 'Open', labels: ['a', 'b', 'c', 'd', 'e'], series: [{ name: 'open', values: [1, 2, null, 4, 5] }] }).html;
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(svg).not.toContain('<title>c: ');
  });

  it('draws a bar per present value, escapes every label, and says so when there is no data at all', () => {
    const svg = barChart({ title: 'T <b>"x"</b>', labels: ['<i>', 'w2'], series: [{ name: 'n&m', values: [3, null] }] }).html;
    expect(svg.match(/<rect /g)).toHaveLength(1);
    expect(svg).toContain('aria-label="T &lt;b&gt;&quot;x&quot;&lt;/b&gt;"');
    expect(svg).toContain('<title>&lt;i&gt;: n&amp;m 3</title>');
    expect(svg).toContain('<figcaption><b>T &lt;b&gt;&quot;x&quot;&lt;/b&gt;</b>');
    expect(svg).not.toContain('<i>');
    const empty = barChart({ title: 'Empty', labels: ['w1'], series: [{ name: 'n', values: [null] }] }).html;
    expect(empty).toContain('>no data in the period</text>');
    expect(empty).not.toContain('<rect');
  });

  it('thins the x labels of long periods to at most fourteen', () => {
    const labels = Array.from({ length: 53 }, (_, index) => `W${index + 1}`);
    const svg = lineChart({ title: 'Year', labels, series: [{ name: 's', values: labels.map(() => 1) }] }).html;
    expect(svg.match(/<text class="tick" x="[^"]+" y="[^"]+" text-anchor="middle">/g)).toHaveLength(14);
    expect(svg.match(/<circle /g)).toHaveLength(53);
  });
});
