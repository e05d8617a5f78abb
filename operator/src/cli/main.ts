/**
 * The `vigil` command line: dispatches `vigil <command> …` to a command module.
 *
 * Adding a command: add an entry to `commands` whose `load` imports a module exporting
 * `run(argv, io): Promise<number>` (see CommandModule in io.ts). Modules are imported
 * lazily, so `vigil scan` never loads the Kubernetes client an `operator` command needs.
 */
import { EXIT_ERROR, EXIT_OK, printable, processIO, type CliIO, type CommandModule } from './io.ts';

export interface CommandEntry {
  /** One line for `vigil help`. */
  summary: string;
  load(): Promise<CommandModule>;
}

export const commands: Record<string, CommandEntry> = {
  scan: {
    summary: 'Scan Kubernetes manifests (files, directories, stdin) offline',
    load: () => import('./scan.ts'),
  },
  audit: {
    summary: 'Judge Kubernetes API audit events (an audit log or stdin) offline',
    load: () => import('./audit.ts'),
  },
  admission: {
    summary: 'Render the ValidatingAdmissionPolicies that enforce a SecurityPolicy (render --policy FILE)',
    load: () => import('../admission/command.ts'),
  },
  sbom: {
    summary: 'List the packages in an image, read from its registry; --advisories adds known CVEs',
    load: () => import('./sbom.ts'),
  },
  rules: {
    summary: 'List the rules, their severity, category and profiles',
    load: () => import('./rules.ts'),
  },
  operator: {
    summary: 'Run the operator: watch the cluster, keep ScanReports, status, events and metrics true',
    load: () => import('../runtime/command.ts'),
  },
  version: { summary: 'Print the version', load: () => import('./version.ts') },
};

export function usage(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length), 'help'.length);
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]?.summary ?? ''}`);
  lines.push(`  ${'help'.padEnd(width)}  Show help for vigil or a command (vigil help scan)`);
  return `Usage: vigil <command> [options]

Kubernetes security scanner and operator.

Commands:
${lines.join('\n')}

Run 'vigil <command> --help' for a command's options.
`;
}

/** Runs the CLI; returns the exit code. Never throws. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      io.stderr.write(usage());
      return EXIT_ERROR;
    }
    if (first === '-h' || first === '--help') {
      io.stdout.write(usage());
      return EXIT_OK;
    }
    if (first === '--version' || first === '-v') return await runCommand('version', [], io);
    if (first === 'help') {
      const topic = rest[0];
      if (topic === undefined) {
        io.stdout.write(usage());
        return EXIT_OK;
      }
      if (!Object.hasOwn(commands, topic)) return unknownCommand(topic, io);
      return await runCommand(topic, ['--help'], io);
    }
    if (!Object.hasOwn(commands, first)) return unknownCommand(first, io);
    return await runCommand(first, rest, io);
  } catch (err) {
    // A bug, not an input problem: one line unless VIGIL_DEBUG asks for the stack.
    const detail =
      io.env['VIGIL_DEBUG'] && err instanceof Error && err.stack
        ? err.stack
        : err instanceof Error
          ? err.message
          : String(err);
    io.stderr.write(`vigil: internal error: ${detail}\n`);
    return EXIT_ERROR;
  }
}

async function runCommand(name: string, argv: string[], io: CliIO): Promise<number> {
  const entry = commands[name] as CommandEntry;
  const mod = await entry.load();
  return mod.run(argv, io);
}

function unknownCommand(name: string, io: CliIO): number {
  io.stderr.write(`vigil: unknown command "${printable(name)}"\n\n${usage()}`);
  return EXIT_ERROR;
}
