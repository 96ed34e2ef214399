import { ExitCode, UsageError } from '../../common/errors.js';
import { compareFailureRates } from '../../verify/compare.js';
import { failureCountOf } from '../../verify/gather.js';
import { renderVerification, verificationJson } from '../../verify/render.js';
import type { Command } from '../context.js';
import {
  AWS_FLAGS,
  asFlagErrors,
  awsConnectionFrom,
  helpText,
  parseFlags,
  probabilityFlag,
} from '../flags.js';

const FLAGS = {
  before: { type: 'string', arg: 'DIR|SINCE..UNTIL', help: 'a probe run (--out DIR) or a time window' },
  after: { type: 'string', arg: 'DIR|SINCE..UNTIL', help: 'the same, after the change' },
  logs: {
    type: 'string',
    multiple: true,
    arg: 'SOURCE',
    help: 'ALB logs for window comparisons (repeatable)',
  },
  alpha: { type: 'string', arg: 'A', help: 'significance level (default 0.01)' },
  ...AWS_FLAGS,
  json: { type: 'boolean', help: '{ before, after, test, pValue, verdict, improved, sentence }' },
} as const;

const usage = helpText({
  usage:
    'Usage: throttlescope verify --before <probe DIR | SINCE..UNTIL> --after <probe DIR | SINCE..UNTIL> [options]',
  about: `Compare failure rates before and after a change: Fisher's exact test for small counts, else the
two-proportion z test. A window SINCE..UNTIL counts 5xx answers in --logs.`,
  flags: FLAGS,
  footer: 'Exit: 0 improved, 6 no significant change or worse, 2 usage, 3 input unreadable.',
});

export const command: Command = {
  name: 'verify',
  summary: 'compare failure rates before/after with a statistical test',
  usage,
  flagTables: [FLAGS],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags('verify', FLAGS, argv);
    if (positionals.length > 0) {
      throw new UsageError(`verify: unexpected argument "${positionals[0]}" (give --before and --after)`);
    }
    if (!values.before || !values.after) throw new UsageError('verify: give both --before and --after');
    const alpha = probabilityFlag('verify', 'alpha', values.alpha) ?? 0.01;
    const aws = awsConnectionFrom(values, ctx.env);
    const { before, after } = await asFlagErrors('verify', { logs: 'logs' }, async () => ({
      before: await failureCountOf(values.before as string, { logs: values.logs, aws }),
      after: await failureCountOf(values.after as string, { logs: values.logs, aws }),
    }));
    const c = compareFailureRates(before, after, alpha);
    const sources = { before: before.source, after: after.source };
    ctx.stdout.write(
      values.json
        ? `${JSON.stringify(verificationJson(c, alpha, sources), null, 2)}\n`
        : renderVerification(c, alpha, sources),
    );
    return c.improved ? ExitCode.ok : ExitCode.verdict;
  },
};
