/** The report page's only stylesheet (inlined; its SHA-256 goes into the CSP). */
export const REPORT_CSS = `:root { color-scheme: light; --fg: #1b1b1b; --muted: #5b5b5b; --line: #d8d8d8; --accent: #0b5cad;
  --bad: #b00020; --good: #1b7f3b; --bg-soft: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
header.page { border-bottom: 2px solid var(--line); margin-bottom: 20px; padding-bottom: 8px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 16px 0 6px; }
.meta, .muted, figcaption { color: var(--muted); font-size: 0.9rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.88em; }
code { background: var(--bg-soft); padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: var(--bg-soft); padding: 10px 12px; border-radius: 4px; overflow-x: auto; white-space: pre-wrap;
  overflow-wrap: anywhere; }
.root-cause { border: 2px solid var(--bad); border-radius: 6px; padding: 12px 16px; background: #fff7f7; }
.root-cause.healthy { border-color: var(--good); background: #f5fbf6; }
.root-cause .headline { font-size: 1.2rem; font-weight: 600; margin: 4px 0 10px; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.victims { margin: 0; padding-left: 18px; }
figure { margin: 0 0 24px; }
.chart-box { position: relative; height: 340px; width: 100%; }
.chart-box canvas { display: block; }
.chart-error { color: var(--bad); font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
ol.chain li { margin-bottom: 6px; }
ol.chain .step { font-weight: 600; }
article.finding { border-left: 4px solid var(--accent); padding: 2px 0 2px 12px; margin-bottom: 16px; }
article.finding h3 { margin-top: 0; }
ul.evidence { margin: 4px 0 0; padding-left: 18px; }
ul.evidence li { overflow-wrap: anywhere; }
time { font-variant-numeric: tabular-nums; }
.verdict { font-weight: 700; }
.verdict.improved { color: var(--good); }
.verdict.worse { color: var(--bad); }
.gaps { border: 1px dashed var(--muted); padding: 8px 12px; border-radius: 4px; }
footer { margin-top: 36px; color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .root-cause { background: none; }
  h2 { break-after: avoid; }
  figure, article.finding, .root-cause, table { break-inside: avoid; }
  .chart-box { height: 300px; }
  pre, code { background: none; border: 1px solid var(--line); }
}
`;
