/**
 * Each command's --help is generated from the flag tables it parses with: every flag it accepts
 * is in its help, and every flag its help lists at the start of a line is one it accepts.
 */
import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/cli/context.js';
import { flagHelp, parseFlags } from '../../src/cli/flags.js';

const NAMES = ['demo', 'probe', 'logs', 'metrics', 'diagnose', 'fix', 'verify', 'plan', 'lab'];

async function load(name: string): Promise<Command> {
  const mod = (await import(`../../src/cli/commands/${name}.ts`)) as { command: Command };
  return mod.command;
}

describe('flags and --help', () => {
  for (const name of NAMES) {
    it(`${name}: the help lists exactly the flags the command accepts`, async () => {
      const command = await load(name);
      const accepted = new Set<string>();
      const shorts = new Set<string>();
      for (const table of command.flagTables) {
        for (const [flag, spec] of Object.entries(table)) {
          accepted.add(flag);
          if (spec.short) shorts.add(spec.short);
        }
      }
      expect(accepted.size).toBeGreaterThan(0);
      for (const flag of accepted) expect(command.usage, `--${flag}`).toMatch(new RegExp(`--${flag}\\b`));
      for (const s of shorts) expect(command.usage, `-${s}`).toMatch(new RegExp(`(^|\\s)-${s},? `, 'm'));
      const listed = [...command.usage.matchAll(/^\s+(?:-\w, )?--([a-z][\w-]*)/gm)].map(
        (m) => m[1] as string,
      );
      expect(listed.length).toBeGreaterThan(0);
      for (const flag of listed) expect(accepted, `help lists --${flag}`).toContain(flag);
    });
  }

  it("probe's -k (--insecure) is in its help", async () => {
    expect((await load('probe')).usage).toMatch(/-k, --insecure/);
  });

  it('parses with the same table the help is made from, joining dash-led values', () => {
    const table = {
      since: { type: 'string', arg: 'T', help: 'start' },
      json: { type: 'boolean', help: 'as JSON' },
      header: { type: 'string', short: 'H', multiple: true, arg: 'K: V', help: 'a header\nrepeatable' },
    } as const;
    const { values, positionals } = parseFlags('x', table, [
      '--since',
      '-15m',
      '-H',
      'a: 1',
      '--json',
      'pos',
    ]);
    expect(values).toEqual({ since: '-15m', header: ['a: 1'], json: true });
    expect(positionals).toEqual(['pos']);
    expect(flagHelp(table)).toBe(
      [
        `  --since T${' '.repeat(10)}start`,
        `  --json${' '.repeat(13)}as JSON`,
        '  -H, --header K: V  a header',
        `${' '.repeat(21)}repeatable`,
      ].join('\n'),
    );
    expect(() => parseFlags('x', table, ['--nope'])).toThrow(/^x: Unknown option '--nope'/);
  });
});
