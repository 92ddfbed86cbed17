import { type CliCommand, defineCommand, type Flags } from '../command.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';

/** `aitrail completion bash|zsh|fish`, generated from the same declarations that drive parsing. */
export function createCompletionCommand(commands: () => readonly CliCommand<Flags>[]): CliCommand {
  return defineCommand({
    name: 'completion',
    summary: 'Print a shell completion script (bash, zsh or fish)',
    details: [
      'bash:  eval "$(aitrail completion bash)"        (e.g. in ~/.bashrc)',
      'zsh:   source <(aitrail completion zsh)         (or save as _aitrail in $fpath)',
      'fish:  aitrail completion fish | source         (or save in ~/.config/fish/completions)',
    ].join('\n'),
    positionals: [
      { name: 'SHELL', description: 'bash, zsh or fish', required: true, choices: SHELLS },
    ],
    flags: {},
    async run({ positionals, io }) {
      io.out.write(completionScript(positionals[0] as Shell, commands()));
    },
  });
}
