/**
 * `vigil sbom IMAGE`: what is inside an image, read from its registry (no container engine, no
 * node access): the packages as a table or a CycloneDX 1.5 JSON BOM; with --advisories, the known
 * vulnerabilities of those packages from OSV records (a directory, a zip such as osv.dev's
 * per-ecosystem all.zip, or a JSON file).
 */
import { parseArgs } from 'node:util';
import { analyseImage } from '../images/analyse.ts';
import { cycloneDx } from '../images/cyclonedx.ts';
import { AdvisoryIndex, loadAdvisoriesFrom } from '../images/osv.ts';
import { RegistryClient } from '../images/registry.ts';
import { cycloneDxVulnerabilities, findVulnerabilities } from '../images/vulns.ts';
import { oneOf, shortParseError, usageError } from './args.ts';
import { registryClientFromFlags } from './images.ts';
import { REGISTRY_FLAGS, REGISTRY_HELP } from './registry-flags.ts';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, printable, type CliIO } from './io.ts';

export const SBOM_OUTPUTS = ['table', 'json'] as const;

export const SBOM_USAGE = `Usage: vigil sbom [options] IMAGE

Lists the packages inside IMAGE (registry/repository[:tag][@sha256:…]), read from its
registry over the OCI distribution API, or from an OCI image layout on disk (oci:DIR):
Debian/Ubuntu dpkg, Alpine apk, npm, Python and Go binaries' modules, and the OS
release. Layers are streamed and checked against their digests; only package metadata
is kept. Multi-platform images: the linux/amd64 image. See docs/images.md.

Options:
  -o, --output FMT       table or json (a CycloneDX 1.5 BOM; default table).
  --advisories PATH|URL  OSV records (directory, .zip or .json; or an http(s) URL of one,
                         such as osv.dev's per-ecosystem all.zip): also report the known
                         vulnerabilities of the packages, with fixed versions.
${REGISTRY_HELP}  -h, --help             Show this help.

Exit codes:
  0  the image was read (and, with --advisories, no known vulnerability)
  1  --advisories found vulnerabilities
  2  usage error, or the image could not be read (the reason is printed)
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        advisories: { type: 'string' },
        ...REGISTRY_FLAGS,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usageError(io, 'sbom', shortParseError(err), SBOM_USAGE);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(SBOM_USAGE);
    return EXIT_OK;
  }
  if (positionals.length !== 1) return usageError(io, 'sbom', 'give exactly one IMAGE', SBOM_USAGE);
  const output = values.output ?? 'table';
  if (!oneOf(SBOM_OUTPUTS, output))
    return usageError(
      io,
      'sbom',
      `unknown output format "${output}" (valid: ${SBOM_OUTPUTS.join(', ')})`,
      SBOM_USAGE,
    );
  const image = positionals[0] as string;

  const client = registryClientFromFlags(values, io);
  if (!(client instanceof RegistryClient)) {
    if (client.usage) return usageError(io, 'sbom', client.error, SBOM_USAGE);
    io.stderr.write(`vigil sbom: ${printable(client.error)}\n`);
    return EXIT_ERROR;
  }

  let index: AdvisoryIndex | undefined;
  try {
    if (values.advisories !== undefined)
      index = new AdvisoryIndex(await loadAdvisoriesFrom(values.advisories, io.cwd));
    const a = await analyseImage(image, client);
    const vulns = index ? findVulnerabilities(a.inventory, index) : [];
    if (output === 'json') {
      const bom = cycloneDx(a);
      if (index) bom['vulnerabilities'] = cycloneDxVulnerabilities(vulns);
      io.stdout.write(`${JSON.stringify(bom, null, 2)}\n`);
    } else {
      const inv = a.inventory;
      io.stdout.write(`${printable(a.reference)}\n`);
      io.stdout.write(
        `OS: ${inv.os ? printable(inv.os.prettyName || `${inv.os.id} ${inv.os.versionId}`) : 'unknown (no os-release)'}\n`,
      );
      io.stdout.write(
        `${a.layers.length} layers, ${a.bytes} bytes read, ${a.keptBytes} bytes of metadata kept\n\n`,
      );
      const rows = inv.packages.map((p) => [p.type, p.name, p.version, p.locations[0] ?? '']);
      table(io, ['TYPE', 'NAME', 'VERSION', 'FOUND IN'], rows);
      const counts = new Map<string, number>();
      for (const p of inv.packages) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
      io.stdout.write(
        `\n${inv.packages.length} packages (${[...counts].map(([t, n]) => `${t} ${n}`).join(', ') || 'none'})\n`,
      );
      for (const b of inv.legacyGoBinaries)
        io.stdout.write(`Go binary built before Go 1.18, modules not read: ${printable(b)}\n`);
      for (const p of inv.problems) io.stdout.write(`not read: ${printable(p)}\n`);
      for (const x of a.suspicious)
        io.stdout.write(`suspicious: ${x.severity} ${x.kind} ${printable(x.path)}: ${printable(x.detail)}\n`);
      if (index) {
        io.stdout.write(`\n`);
        if (vulns.length > 0)
          table(
            io,
            ['SEVERITY', 'PACKAGE', 'INSTALLED', 'FIXED', 'ADVISORY', 'ALIASES'],
            vulns.map((v) => [
              v.severity ?? '-',
              v.package.name,
              v.installed,
              v.fixed ?? '-',
              v.id,
              v.aliases.join(' '),
            ]),
          );
        const ids = new Set(vulns.map((v) => v.id));
        io.stdout.write(
          `\n${vulns.length} vulnerabilities (${ids.size} advisories) in ${new Set(vulns.map((v) => v.package.purl)).size} packages; ${index.size} advisory records loaded\n`,
        );
      }
    }
    return vulns.length > 0 ? EXIT_FINDINGS : EXIT_OK;
  } catch (err) {
    io.stderr.write(`vigil sbom: ${printable(err instanceof Error ? err.message : String(err))}\n`);
    return EXIT_ERROR;
  }
}

function table(io: CliIO, head: string[], rows: string[][]): void {
  const all = [head, ...rows].map((r) => r.map((c) => printable(c)));
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all)
    io.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`);
}
