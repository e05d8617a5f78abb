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
