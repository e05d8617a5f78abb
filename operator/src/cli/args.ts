/** Shared argument handling: node:util parseArgs errors become one-line usage errors (exit 2). */
import { EXIT_ERROR, printable, type CliIO } from './io.ts';

/** Node's messages carry a hint about `--`; keep the first sentence. */
export function shortParseError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split(/\.\s+(?=[A-Z])/)[0] ?? msg;
  return first.replace(/\.$/, '');
}

/** Prints `vigil <cmd>: <message>` and the command's usage on stderr; returns exit code 2. */
export function usageError(io: CliIO, command: string, message: string, usage: string): number {
  io.stderr.write(`vigil ${command}: ${printable(message)}\n\n${usage}`);
  return EXIT_ERROR;
}

/** A type guard: `v` is one of `values` (flag values with a fixed set of choices). */
export function oneOf<T extends string>(values: readonly T[], v: string): v is T {
  return (values as readonly string[]).includes(v);
}

/**
 * --output and --fail-on as `vigil scan` and `vigil audit` take them (defaults: table, high): the
 * chosen values, or the exit code of the usage error that names the bad one.
 */
export function outputAndFailOn<O extends string, F extends string>(
  io: CliIO,
  command: string,
  usage: string,
  values: { output?: string | undefined; 'fail-on'?: string | undefined },
  outputs: readonly O[],
  failOns: readonly F[],
): { output: O; failOn: F } | number {
  const output = values.output ?? 'table';
  if (!oneOf(outputs, output))
    return usageError(io, command, `unknown output format "${output}" (valid: ${outputs.join(', ')})`, usage);
  const failOn = values['fail-on'] ?? 'high';
  if (!oneOf(failOns, failOn))
    return usageError(io, command, `unknown --fail-on "${failOn}" (valid: ${failOns.join(', ')})`, usage);
  return { output, failOn };
}
