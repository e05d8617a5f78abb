/**
 * What a CLI command may touch: its output streams, stdin, environment and
 * working directory. Commands take this instead of `process` so tests can run
 * them in-process, and so the operator command can share the same shape.
 */

export interface OutStream {
  write(chunk: string): unknown;
  /** True when the stream is a terminal (colours in table output). */
  isTTY?: boolean;
}

export interface CliIO {
  stdout: OutStream;
  stderr: OutStream;
  stdin: AsyncIterable<Uint8Array | string>;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/** A subcommand: `vigil <name> …`. Returns the process exit code. */
export interface CommandModule {
  run(argv: string[], io: CliIO): Promise<number>;
}

/** No finding at or above --fail-on. */
export const EXIT_OK = 0;
/** Findings at or above --fail-on. */
export const EXIT_FINDINGS = 1;
/** Usage or input error (takes precedence over EXIT_FINDINGS). */
export const EXIT_ERROR = 2;

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * Makes untrusted text (resource names, file names, parser messages) safe to print on a
 * terminal: control characters and bidirectional overrides are shown escaped, never
 * interpreted, so a manifest cannot move the cursor, recolour or spoof the output.
 */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Should table output use ANSI colours? Only on a terminal, and never when NO_COLOR is set. */
export function useColour(io: CliIO): boolean {
  const noColor = io.env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  return io.stdout.isTTY === true;
}
