import { parseArgs } from 'node:util';
import { ExitCode } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { runDemo } from '../../demo/run.js';
import type { Command } from '../context.js';
import { numberFlag, withUsage } from '../flags.js';

const usage = `Usage: throttlescope demo [--seconds S] [--rate R] [--out DIR] [--json]

Replays the 502 incident end to end on the embedded lab (loopback only, no AWS account):
start the noisy-neighbour account -> probe two ALB endpoints -> diagnose through the lab's AWS
endpoint (S3 logs, CloudWatch metrics) -> apply reserved concurrency -> probe again -> verify ->
HTML report.

Options:
  --seconds S   length of each probe phase (default 15)
  --rate R      requests per second per URL (default 5)
  --out DIR     where probe runs, the rollback file and report.html go (default: a temp directory)
  --json        print { before, diagnosis, fix, after, verdict, report } (narration goes to stderr)

Exit: 0 the fix was verified, 6 the demo ran but the verdict was not "improved", 130 interrupted.
`;

export const command: Command = {
  name: 'demo',
  summary: 'replay the 502 incident end to end on the embedded lab',
  usage,
  async run(argv, ctx) {
    const { values } = withUsage('demo', () =>
      parseArgs({
        args: argv,
        options: {
          seconds: { type: 'string' },
          rate: { type: 'string' },
          out: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      }),
    );
    const narrate = values.json ? ctx.stderr : ctx.stdout;
    const live = !values.json && ctx.stdout.isTTY === true;
    const result = await runDemo({
      probeSeconds: numberFlag('demo', 'seconds', values.seconds, { min: 1 }),
      rate: numberFlag('demo', 'rate', values.rate, { min: 0.1 }),
      outDir: values.out,
      signal: ctx.signal,
      onStep: (line) => {
        if (live) ctx.stdout.write('\r\x1b[K');
        narrate.write(`${safeForTerminal(line)}\n`);
      },
      onProgress: live
        ? (_phase, p) => {
            const total = p.urls.reduce((n, u) => n + u.total, 0);
            const failed = p.urls.reduce((n, u) => n + u.failed, 0);
            ctx.stdout.write(
              `\r\x1b[K   ${(p.elapsedMs / 1000).toFixed(0)} s: ${total} requests, ${failed} failed`,
            );
          }
        : undefined,
    });
    if (values.json) {
      const { outDir: _o, wallSeconds: _w, ...doc } = result;
      ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      ctx.stdout.write(
        `\nDone in ${result.wallSeconds.toFixed(0)} s. Open the report: ${safeForTerminal(result.report)}\n`,
      );
    }
    if (ctx.signal.aborted) return ExitCode.interrupted;
    return result.verdict.improved ? ExitCode.ok : ExitCode.verdict;
  },
};
