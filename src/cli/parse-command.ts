import { parseArgs } from 'node:util';
import type { CliCommand, FlagSpec, Flags, FlagValues } from './command.js';
import { UsageError } from './usage-error.js';

export interface ParsedCommand<F extends Flags> {
  flags: FlagValues<F>;
  positionals: string[];
  help: boolean;
}

const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** Parses argv against the command's declaration: unknown flags, bad choices and missing positionals are usage errors. */
export function parseCommandArgs<F extends Flags>(
  command: CliCommand<F>,
  args: string[],
): ParsedCommand<F> {
  const options: Record<
    string,
    { type: 'string' | 'boolean'; short?: string; multiple?: boolean }
  > = {};
  for (const [name, spec] of Object.entries({ ...command.flags, help: HELP_FLAG })) {
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${command.name}: ${(error as Error).message.split('\n')[0]}`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help === true) return { flags: {} as FlagValues<F>, positionals: [], help: true };
  delete values.help;
  for (const [name, spec] of Object.entries(command.flags)) {
    const value = values[name];
    if (value === undefined) {
      if (spec.default !== undefined) values[name] = spec.default;
      continue;
    }
    if (spec.choices) {
      for (const one of Array.isArray(value) ? value : [value]) {
        if (typeof one === 'string' && !spec.choices.includes(one)) {
          throw new UsageError(
            `--${name} must be one of ${spec.choices.join(', ')}, got "${one.slice(0, 40)}"`,
          );
        }
      }
    }
  }
  const declared = command.positionals ?? [];
  const positionals = parsed.positionals;
  if (positionals.length > declared.length) {
    throw new UsageError(
      `${command.name}: unexpected argument "${(positionals[declared.length] ?? '').slice(0, 40)}"`,
    );
  }
  declared.forEach((spec, i) => {
    const value = positionals[i];
    if (value === undefined) {
      if (spec.required) throw new UsageError(`${command.name}: missing ${spec.name}`);
      return;
    }
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(
        `${command.name}: ${spec.name} must be one of ${spec.choices.join(', ')}, got "${value.slice(0, 40)}"`,
      );
    }
  });
  return { flags: values as FlagValues<F>, positionals, help: false };
}

function flagLabel(name: string, spec: FlagSpec): string {
  const long = `--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
  return spec.short ? `-${spec.short}, ${long}` : `    ${long}`;
}

/** `aitrail <name> --help`: usage, details, one line per flag. */
export function renderCommandHelp(command: CliCommand<Flags>): string {
  const positionals = (command.positionals ?? [])
    .map((p) => (p.required ? p.name : `[${p.name}]`))
    .join(' ');
  const lines = [
    `usage: aitrail ${command.name}${positionals ? ` ${positionals}` : ''} [flags]`,
    '',
    command.summary,
  ];
  if (command.details) lines.push('', command.details);
  if (command.positionals?.length) {
    lines.push('', 'arguments:');
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(28)}${p.description}`);
  }
  lines.push('', 'flags:');
  const all = Object.entries({ ...command.flags, help: HELP_FLAG });
  for (const [name, spec] of all) {
    const label = flagLabel(name, spec);
    const extras = [
      spec.choices && !spec.description.includes(spec.choices.join(', '))
        ? spec.choices.join('|')
        : '',
      spec.multiple ? 'repeatable' : '',
      spec.default !== undefined ? `default ${spec.default}` : '',
    ].filter(Boolean);
    const description = `${spec.description}${extras.length ? ` (${extras.join('; ')})` : ''}`;
    lines.push(
      label.length >= 30
        ? `  ${label}\n${' '.repeat(32)}${description}`
        : `  ${label.padEnd(30)}${description}`,
    );
  }
  return lines.join('\n');
}
