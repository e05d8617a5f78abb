import { expect } from 'chai';
import { ImageFiles, kindOf } from './layers.ts';
import {
  goToolchainSemver,
  inventory,
  lockPackages,
  osEcosystem,
  parseOsRelease,
  purlOf,
} from './packages.ts';

function filesOf(entries: Record<string, string>): ImageFiles {
  const f = new ImageFiles();
  for (const [path, text] of Object.entries(entries)) {
    const kind = kindOf({ path, type: 'file', size: text.length, mode: 0o644, linkname: '' });
    if (!kind) throw new Error(`${path} is not a kept file`);
    f.files.set(path, { kind, data: Buffer.from(text), layer: 0 });
  }
  return f;
}

const DPKG = `Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation.
 .
 It provides the libssl and libcrypto shared libraries.

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
`;

describe('images/packages', () => {
  it('dpkg status: installed packages only, source packages named, Debian ecosystem from os-release', () => {
    const inv = inventory(
      filesOf({
        'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
        'var/lib/dpkg/status': DPKG,
        'var/lib/dpkg/status.d/tzdata': 'Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n',
      }),
    );
    expect(
      inv.packages.map((p) => [p.name, p.version, p.ecosystem, p.source ?? '', p.sourceVersion ?? '']),
    ).to.deep.equal([
      ['libgcc-s1', '12.2.0-14', 'Debian:12', 'gcc-12', '12.2.0-14'],
      ['libssl3', '3.0.11-1~deb12u2', 'Debian:12', 'openssl', '3.0.11-1~deb12u2'],
      ['tzdata', '2024a-0+deb12u1', 'Debian:12', '', ''],
    ]);
    expect(inv.packages[1]?.purl).to.equal(
      'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12',
    );
  });

  it('npm lock files v1 and v3, and a lock beside an installed tree gives way to it', () => {
    expect(
      lockPackages({
        lockfileVersion: 3,
        packages: {
          '': { name: 'app' },
          'node_modules/a': { version: '1.0.0' },
          'node_modules/a/node_modules/@s/b': { version: '2.0.0' },
          'node_modules/l': { link: true },
        },
      }),
    ).to.deep.equal([
      ['a', '1.0.0'],
      ['@s/b', '2.0.0'],
    ]);
    expect(
      lockPackages({
        lockfileVersion: 1,
        dependencies: {
          a: { version: '1.0.0', dependencies: { b: { version: '2.0.0' } } },
          g: { version: 'github:x/y' },
        },
      }),
    ).to.deep.equal([
      ['a', '1.0.0'],
      ['b', '2.0.0'],
    ]);
    const inv = inventory(
      filesOf({
        'srv/package-lock.json': JSON.stringify({
          lockfileVersion: 3,
          packages: { 'node_modules/only-locked': { version: '1.0.0' } },
        }),
        'app/package-lock.json': JSON.stringify({
          lockfileVersion: 3,
          packages: { 'node_modules/removed': { version: '1.0.0' } },
        }),
        'app/node_modules/kept/package.json': '{"name":"kept","version":"2.0.0"}',
      }),
    );
    expect(inv.packages.map((p) => `${p.name}@${p.version} ${p.locations.join(',')}`)).to.deep.equal([
      'kept@2.0.0 /app/node_modules/kept/package.json',
      'only-locked@1.0.0 /srv/package-lock.json',
    ]);
  });

  it('os-release quoting and the OSV ecosystems of Ubuntu and Alpine', () => {
    const os = parseOsRelease(
      'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nPRETTY_NAME="Ubuntu 22.04.4 LTS \\"Jammy\\""\n# comment\n',
    );
    expect(os).to.deep.equal({ id: 'ubuntu', versionId: '22.04', prettyName: 'Ubuntu 22.04.4 LTS "Jammy"' });
    expect(osEcosystem(os)).to.equal('Ubuntu:22.04');
    expect(osEcosystem({ id: 'alpine', versionId: '3.20.3', prettyName: '' })).to.equal('Alpine:v3.20');
    expect(osEcosystem({ id: 'fedora', versionId: '40', prettyName: '' })).to.equal(undefined);
  });

  it('Go toolchain versions become the semver the Go vulnerability database uses for stdlib', () => {
    expect(goToolchainSemver('go1.20')).to.equal('1.20.0');
    expect(goToolchainSemver('go1.21.3')).to.equal('1.21.3');
    expect(goToolchainSemver('go1.22rc1')).to.equal('1.22.0-rc.1');
    expect(goToolchainSemver('go1.19beta2')).to.equal('1.19.0-beta.2');
    expect(goToolchainSemver('go1.20.4 X:boringcrypto')).to.equal('1.20.4');
    expect(goToolchainSemver('devel go1.23-abcdef')).to.equal(undefined);
  });

  it('purls encode what the spec says to', () => {
    expect(
      purlOf({
        type: 'deb',
        namespace: 'debian',
        name: 'zlib1g',
        version: '1:1.2.13.dfsg-1',
        qualifiers: { arch: 'amd64' },
      }),
    ).to.equal('pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64');
    expect(purlOf({ type: 'golang', name: 'github.com/a/b/v2', version: 'v2.0.0+incompatible' })).to.equal(
      'pkg:golang/github.com/a/b/v2@v2.0.0%2Bincompatible',
    );
    expect(purlOf({ type: 'pypi', name: 'Zope.Interface', version: '6.0' })).to.equal(
      'pkg:pypi/zope-interface@6.0',
    );
  });

  it('keeps only the files that say what is installed', () => {
    const k = (path: string, mode = 0o644, size = 100): string | undefined =>
      kindOf({ path, type: 'file', size, mode, linkname: '' });
    expect(k('app/node_modules/@a/b/package.json')).to.equal('npm-package');
    expect(k('app/node_modules/a/lib/package.json')).to.equal(undefined);
    expect(k('app/node_modules/a/node_modules/b/package.json')).to.equal('npm-package');
    expect(k('var/lib/dpkg/status.d/base.md5sums')).to.equal(undefined);
    expect(k('usr/lib/python3/dist-packages/x-1.0.dist-info/METADATA')).to.equal('python-metadata');
    expect(k('usr/lib/python3/dist-packages/x-1.0.egg-info/PKG-INFO')).to.equal('python-metadata');
    expect(k('usr/local/bin/app', 0o755, 5_000_000)).to.equal('go-buildinfo');
    expect(k('usr/local/bin/tiny.sh', 0o755, 200)).to.equal(undefined);
    expect(k('etc/passwd')).to.equal(undefined);
  });
});
