import type { CliCommand, Flags } from './command.js';

/**
 * Completion scripts generated from the command declarations, so they cannot drift from what
 * the parser accepts. Static scripts: a Tab press never starts Node.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

type AnyCommand = CliCommand<Flags>;

function words(values: readonly string[]): string {
  return values.join(' ');
}

function flagWords(command: AnyCommand): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(command.flags)) {
    out.push(`--${name}`);
    if (spec.short) out.push(`-${spec.short}`);
  }
  out.push('--help');
  return out;
}

function bash(commands: readonly AnyCommand[]): string {
  const cases = commands.map((command) => {
    const valueCases = Object.entries(command.flags)
      .filter(([, spec]) => spec.type === 'string')
      .map(([name, spec]) => {
        const patterns = [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])].join('|');
        return spec.choices
          ? `        ${patterns}) COMPREPLY=( $(compgen -W "${words(spec.choices)}" -- "$cur") ); return ;;`
          : `        ${patterns}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;`;
      });
    const first = command.positionals?.[0]?.choices;
    const positional = first
      ? `      if [[ $COMP_CWORD -eq 2 && "$cur" != -* ]]; then COMPREPLY=( $(compgen -W "${words(first)}" -- "$cur") ); return; fi\n`
      : '';
    return `    ${command.name})
      case "$prev" in
${valueCases.join('\n')}
      esac
${positional}      COMPREPLY=( $(compgen -W "${words(flagWords(command))}" -- "$cur") ) ;;`;
  });
  return `# aitrail bash completion: eval "$(aitrail completion bash)"
_aitrail() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${words(commands.map((c) => c.name))} --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
}
complete -F _aitrail aitrail
`;
}

function zshText(text: string): string {
  return text.replace(/[[\]:'\\]/g, (c) => (c === "'" ? "'\\''" : `\\${c}`));
}

function zsh(commands: readonly AnyCommand[]): string {
  const list = commands.map((c) => `    '${c.name}:${zshText(c.summary)}'`).join('\n');
  const cases = commands.map((command) => {
    const specs = Object.entries(command.flags).map(([name, spec]) => {
      const value =
        spec.type === 'string'
          ? `:${zshText(spec.valueName ?? 'value')}:${spec.choices ? `(${words(spec.choices)})` : '_files'}`
          : '';
      const help = `[${zshText(spec.description)}]`;
      const repeat = spec.multiple ? '*' : '';
      return spec.short
        ? `'(-${spec.short} --${name})'{-${spec.short},--${name}}'${help}${value}'`
        : `'${repeat}--${name}${help}${value}'`;
    });
    for (const [i, p] of (command.positionals ?? []).entries()) {
      specs.push(`'${i + 1}:${zshText(p.name)}:${p.choices ? `(${words(p.choices)})` : ''}'`);
    }
    specs.push(`'--help[show this help]'`);
    return `    ${command.name}) _arguments -s ${specs.join(' \\\n        ')} ;;`;
  });
  return `#compdef aitrail
# aitrail zsh completion: source <(aitrail completion zsh), or save as _aitrail in $fpath
_aitrail() {
  local -a commands
  commands=(
${list}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local command=$words[2]
  shift words
  (( CURRENT-- ))
  case $command in
${cases.join('\n')}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _aitrail "$@"; else compdef _aitrail aitrail; fi
`;
}

function fishText(text: string): string {
  return `'${text.replace(/['\\]/g, (c) => `\\${c}`)}'`;
}

function fish(commands: readonly AnyCommand[]): string {
  const lines = [
    '# aitrail fish completion: aitrail completion fish | source',
    'complete -c aitrail -f',
  ];
  const names = words(commands.map((c) => c.name));
  for (const command of commands) {
    lines.push(
      `complete -c aitrail -n 'not __fish_seen_subcommand_from ${names}' -a ${command.name} -d ${fishText(command.summary)}`,
    );
    const when = `-n '__fish_seen_subcommand_from ${command.name}'`;
    for (const [name, spec] of Object.entries(command.flags)) {
      const short = spec.short ? ` -s ${spec.short}` : '';
      const value =
        spec.type === 'string'
          ? ` -r${spec.choices ? ` -a ${fishText(words(spec.choices))}` : ' -F'}`
          : '';
      lines.push(
        `complete -c aitrail ${when} -l ${name}${short}${value} -d ${fishText(spec.description)}`,
      );
    }
    const first = command.positionals?.[0];
    if (first?.choices) {
      lines.push(
        `complete -c aitrail ${when} -a ${fishText(words(first.choices))} -d ${fishText(first.description)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, commands: readonly AnyCommand[]): string {
  switch (shell) {
    case 'bash':
      return bash(commands);
    case 'zsh':
      return zsh(commands);
    case 'fish':
      return fish(commands);
  }
}
