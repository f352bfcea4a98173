// What the command-line tools share: reading an option's value, and refusing a
// call with why and the command's usage line (exit code 2, as usage errors
// have it), in the tool's language (./language.ts).
import { cliMessages } from "./language";

/** The value after `name` in the arguments (`--out DIR`), or undefined when it is not given. */
export function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

/** Writes `reason` and the usage line of `command` to stderr, and exits with 2. */
export function usageError(command: string, reason: string): never {
  process.stderr.write(`${reason}\n${cliMessages().text("cli.usage", { command })}\n`);
  process.exit(2);
}
