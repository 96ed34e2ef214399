export { embedJson, escapeHtml } from './escape.js';
export { CHART_JS_FILE, chartJsSource, formatPValue, formatTime, renderHtmlReport } from './html.js';
export type * from './model.js';
