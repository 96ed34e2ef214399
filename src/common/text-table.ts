/** Plain-text tables and bar charts for terminal renderers (they return strings; the CLI prints). */
import { safeForTerminal } from './terminal.js';

/** Left-aligned text columns, right-aligned numbers; every cell made terminal-safe. */
export function table(rows: (string | number)[][], indent = '  '): string {
  if (rows.length === 0) return '';
  const cells = rows.map((r) =>
    r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : safeForTerminal(c))),
  );
  const widths: number[] = [];
  for (const r of cells) {
    for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i] ?? 0, (r[i] as string).length);
  }
  return cells
    .map((r, ri) =>
      r
        .map((c, i) => {
          const numeric = typeof rows[ri]?.[i] === 'number';
          const w = widths[i] ?? 0;
          return i === r.length - 1 && !numeric ? c : numeric ? c.padStart(w) : c.padEnd(w);
        })
        .join('  ')
        .trimEnd(),
    )
    .map((line) => indent + line)
    .join('\n');
}

export const pct = (part: number, whole: number, digits = 1): string =>
  whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(digits)}%`;

const SYMBOLS = ['#', '*', '+', '=', '%', '@', 'o', 'x'];

/**
 * A per-bucket stacked bar chart for terminals: one row per time bucket, one symbol per series
 * (legend first). Buckets are merged so the chart stays under `maxRows` rows.
 */
export function stackedBars(
  buckets: { label: string; counts: Record<string, number> }[],
  opts: { width?: number; maxRows?: number } = {},
): string {
  const width = opts.width ?? 50;
  const maxRows = opts.maxRows ?? 30;
  if (buckets.length === 0) return '  (no data)';
  const merge = Math.ceil(buckets.length / maxRows);
  const rows: { label: string; counts: Record<string, number> }[] = [];
  for (let i = 0; i < buckets.length; i += merge) {
    const group = buckets.slice(i, i + merge);
    const counts: Record<string, number> = {};
    for (const b of group) for (const [k, v] of Object.entries(b.counts)) counts[k] = (counts[k] ?? 0) + v;
    rows.push({ label: group[0]?.label ?? '', counts });
  }
  const totals = new Map<string, number>();
  for (const r of rows)
    for (const [k, v] of Object.entries(r.counts)) totals.set(k, (totals.get(k) ?? 0) + v);
  const series = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const symbol = new Map(series.map((s, i) => [s, SYMBOLS[i % SYMBOLS.length] as string]));
  const max = Math.max(1, ...rows.map((r) => Object.values(r.counts).reduce((a, b) => a + b, 0)));
  const legend = series.map((s) => `${symbol.get(s)} ${safeForTerminal(s)}`).join('   ');
  const lines = rows.map((r) => {
    let bar = '';
    let total = 0;
    for (const s of series) {
      const v = r.counts[s] ?? 0;
      total += v;
      bar += (symbol.get(s) as string).repeat(Math.round((v / max) * width));
    }
    return `  ${r.label}  ${bar}${total > 0 ? ` ${total}` : ''}`;
  });
  const note = merge > 1 ? ` (each row = ${merge} minutes)` : '';
  return `  ${legend}${note}\n${lines.join('\n')}`;
}
