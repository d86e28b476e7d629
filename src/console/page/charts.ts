// Charts as SVG built element by element (no inline styles: colours come from the stylesheet's classes).
import { h, svg } from './dom.ts';

/** Stacked bars over time: allowed and denied calls per interval. */
export function timeChart(
  buckets: { start: number; calls: number; denied: number }[],
  bucketMs: number,
  label: string,
): HTMLElement {
  const width = 640;
  const height = 160;
  const max = Math.max(1, ...buckets.map((b) => b.calls));
  const barWidth = buckets.length === 0 ? 0 : width / buckets.length;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height + 20}`,
    role: 'img',
    'aria-label': label,
    class: 'chart',
  });
  buckets.forEach((bucket, i) => {
    const allowed = bucket.calls - bucket.denied;
    const x = i * barWidth + 1;
    const w = Math.max(1, barWidth - 2);
    const hAllowed = (allowed / max) * height;
    const hDenied = (bucket.denied / max) * height;
    const title = svg('title');
    title.textContent = `${new Date(bucket.start).toLocaleString()}: ${bucket.calls} calls, ${bucket.denied} denied`;
    chart.appendChild(
      svg(
        'g',
        {},
        title,
        svg('rect', { x, y: height - hAllowed - hDenied, width: w, height: hAllowed, class: 'allowed' }),
        svg('rect', { x, y: height - hDenied, width: w, height: hDenied, class: 'denied' }),
      ),
    );
  });
  const axis = svg('text', { x: 0, y: height + 16, class: 'axis' });
  axis.textContent =
    buckets.length === 0
      ? 'no calls'
      : `from ${new Date(buckets[0]!.start).toLocaleString()}, ${Math.round(bucketMs / 60_000)} min per bar; peak ${max}`;
  chart.appendChild(axis);
  return h(
    'figure',
    {},
    chart,
    h(
      'figcaption',
      {},
      label,
      ' (',
      h('span', { class: 'key allowed' }, 'allowed'),
      ', ',
      h('span', { class: 'key denied' }, 'denied'),
      ')',
    ),
  );
}

/** Horizontal bars for counts by name, with the numbers as text too. */
export function barList(counts: Record<string, number>, label: string): HTMLElement {
  const entries = Object.entries(counts).slice(0, 12);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const rows = entries.map(([name, n]) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, name),
      h('td', {}, h('meter', { min: 0, max, value: n, 'aria-label': `${name}: ${n}` })),
      h('td', { class: 'num' }, n),
    ),
  );
  return h(
    'table',
    { class: 'bars' },
    h('caption', {}, label),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'Share'),
        h('th', { scope: 'col' }, 'Count'),
      ),
    ),
    h('tbody', {}, ...(rows.length === 0 ? [h('tr', {}, h('td', { colspan: 3 }, 'none'))] : rows)),
  );
}

/** Denials over time split by a series (code or rule): the five largest, the rest as "other". */
export function seriesChart(
  buckets: {
    start: number;
    denied: number;
    byCode: Record<string, number>;
    byRule: Record<string, number>;
  }[],
  by: 'byCode' | 'byRule',
  label: string,
): HTMLElement {
  const totals = new Map<string, number>();
  for (const bucket of buckets)
    for (const [name, n] of Object.entries(bucket[by])) totals.set(name, (totals.get(name) ?? 0) + n);
  const top = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name]) => name);
  const series = [...top, 'other'];
  const width = 640;
  const height = 120;
  const max = Math.max(1, ...buckets.map((b) => Object.values(b[by]).reduce((x, y) => x + y, 0)));
  const barWidth = buckets.length === 0 ? 0 : width / buckets.length;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': label,
    class: 'chart',
  });
  buckets.forEach((bucket, i) => {
    let y = height;
    const counts = series.map((name) =>
      name === 'other'
        ? Object.entries(bucket[by])
            .filter(([n]) => !top.includes(n))
            .reduce((x, [, n]) => x + n, 0)
        : (bucket[by][name] ?? 0),
    );
    counts.forEach((count, s) => {
      if (count === 0) return;
      const h = (count / max) * height;
      y -= h;
      const title = svg('title');
      title.textContent = `${new Date(bucket.start).toLocaleString()}: ${series[s]} ${count}`;
      chart.appendChild(
        svg(
          'rect',
          { x: i * barWidth + 1, y, width: Math.max(1, barWidth - 2), height: h, class: `s${s}` },
          title,
        ),
      );
    });
  });
  const legend = h(
    'ul',
    { class: 'legend' },
    ...series
      .filter((name) => name !== 'other' || totals.size > top.length)
      .map((name) =>
        h(
          'li',
          {},
          h('span', { class: `swatch s${series.indexOf(name)}`, 'aria-hidden': 'true' }),
          ` ${name} (${name === 'other' ? [...totals.entries()].filter(([n]) => !top.includes(n)).reduce((x, [, n]) => x + n, 0) : totals.get(name)})`,
        ),
      ),
  );
  return h(
    'figure',
    {},
    chart,
    h('figcaption', {}, label),
    totals.size === 0 ? h('p', {}, 'no denials') : legend,
  );
}
