import { ExitCode, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { demoJson, runDemo } from '../../demo/run.js';
import { disableAllocationSitePretenuring } from '../../lab/v8-tuning.js';
import type { Command } from '../context.js';
import { helpText, numberFlag, parseFlags } from '../flags.js';
import { LiveProgress } from '../progress.js';

const FLAGS = {
  seconds: { type: 'string', arg: 'S', help: 'length of each probe phase (default 15)' },
  rate: { type: 'string', arg: 'R', help: 'requests per second per URL (default 5)' },
  out: {
    type: 'string',
    arg: 'DIR',
    help: 'where probe runs, the rollback file and report.html go (default: a temp directory)',
  },
  json: {
    type: 'boolean',
    help: 'print { before, diagnosis, fix, after, verdict, report } (narration goes to stderr)',
  },
} as const;

const usage = helpText({
  usage: 'Usage: throttlescope demo [--seconds S] [--rate R] [--out DIR] [--json]',
  about: `Replays the 502 incident end to end on the embedded lab (loopback only, no AWS account):
start the noisy-neighbour account -> probe two ALB endpoints -> diagnose through the lab's AWS
endpoint (S3 logs, CloudWatch metrics) -> apply reserved concurrency -> probe again -> verify ->
HTML report.`,
  flags: FLAGS,
  footer: 'Exit: 0 the fix was verified, 6 the demo ran but the verdict was not "improved", 130 interrupted.',
});

export const command: Command = {
  name: 'demo',
  summary: 'replay the 502 incident end to end on the embedded lab',
  usage,
  flagTables: [FLAGS],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags('demo', FLAGS, argv);
    if (positionals.length > 0) throw new UsageError(`demo: unexpected argument "${positionals[0]}"`);
    // Narration goes where the reader is: stdout, or stderr when stdout carries the --json document.
    const narration = new LiveProgress(values.json ? ctx.stderr : ctx.stdout, {
      tty: !values.json && ctx.stdout.isTTY === true,
    });
    // The demo serves its lab from this process: see disableAllocationSitePretenuring for why.
    disableAllocationSitePretenuring();
    const result = await runDemo({
      probeSeconds: numberFlag('demo', 'seconds', values.seconds, { min: 1 }),
      rate: numberFlag('demo', 'rate', values.rate, { min: 0.1 }),
      outDir: values.out,
      signal: ctx.signal,
      onStep: (line) => narration.log(line),
      onProgress: (_phase, p) => {
        const total = p.urls.reduce((n, u) => n + u.total, 0);
        const failed = p.urls.reduce((n, u) => n + u.failed, 0);
        narration.update(`   ${(p.elapsedMs / 1000).toFixed(0)} s: ${total} requests, ${failed} failed`);
      },
    }).finally(() => narration.done());
    if (values.json) {
      ctx.stdout.write(`${JSON.stringify(demoJson(result), null, 2)}\n`);
    } else {
      ctx.stdout.write(
        `\nDone in ${result.wallSeconds.toFixed(0)} s. Open the report: ${safeForTerminal(result.report)}\n`,
      );
    }
    if (ctx.signal.aborted) return ExitCode.interrupted;
    return result.verdict.improved ? ExitCode.ok : ExitCode.verdict;
  },
};
