/** A before/after comparison as its --json document and as terminal text; returned, never printed. */
import { safeForTerminal } from '../common/terminal.js';
import type { Comparison } from './compare.js';

/** The public --json document of `verify` (docs/verify.md). */
export function verificationJson(c: Comparison, alpha: number, sources: { before: string; after: string }) {
  return { ...c, alpha, beforeSource: sources.before, afterSource: sources.after };
}

export function renderVerification(
  c: Comparison,
  alpha: number,
  sources: { before: string; after: string },
): string {
  return (
    `${safeForTerminal(c.sentence)}\n` +
    `  before: ${safeForTerminal(sources.before)}\n  after:  ${safeForTerminal(sources.after)}\n  test:   ${c.test}, alpha ${alpha}\n`
  );
}
