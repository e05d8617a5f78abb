import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { layerFromDir, writeImage } from '../../../scripts/image/oci.ts';
import { analyseImage, type ImageAnalysis } from './analyse.ts';
import {
  MinerStringScanner,
  configFindings,
  isMinerName,
  miningPools,
  ownedPaths,
  secretsIn,
  smallFileFindings,
} from './suspicious.ts';

/** A random AWS-shaped access key id, made here (never a real one). */
function fakeAwsKeyId(): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let s = 'AKIA';
  for (let i = 0; i < 16; i++) s += abc.charAt(Math.floor(Math.random() * abc.length));
  return s;
}

describe('images/suspicious', () => {
  let dir: string;
  let pem: string;
  let sshKey: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-suspicious-'));
    pem = execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519'], { encoding: 'utf8' });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id'), '-C', 'test']);
    sshKey = execFileSync('cat', [join(dir, 'id')], { encoding: 'utf8' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('pure detectors', () => {
    it('knows miner executables by name, not by substrings of other names', () => {
      expect(isMinerName('usr/local/bin/xmrig')).to.equal(true);
      expect(isMinerName('opt/T-Rex')).to.equal(true);
      expect(isMinerName('usr/bin/xmrig-proxy-docs.txt')).to.equal(false);
      expect(isMinerName('usr/bin/minerva')).to.equal(false);
    });

    it('finds stratum URLs and pool hosts, and not ordinary hosts', () => {
      expect(miningPools('./run -o stratum+tcp://pool.example.net:3333 -u x')).to.deep.equal([
        'stratum+tcp://pool.example.net:3333',
      ]);
      expect(miningPools('curl https://gulf.moneroocean.stream/x')).to.deep.equal([
        'gulf.moneroocean.stream',
      ]);
      expect(miningPools('curl https://notminexmr.com.example.org/ https://example.com')).to.deep.equal([]);
    });

    it('tells PEM, OpenSSH and encrypted keys and cloud credentials apart', () => {
      expect(secretsIn(pem).map((s) => [s.kind, s.detail, s.severity])).to.deep.equal([
        ['private-key', 'PEM private key', 'high'],
      ]);
      expect(secretsIn(sshKey).map((s) => s.detail)).to.deep.equal(['OpenSSH private key']);
      const encrypted = execFileSync(
        'openssl',
        ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:test'],
        {
          input: pem,
          encoding: 'utf8',
        },
      );
      expect(secretsIn(encrypted).map((s) => [s.detail, s.severity])).to.deep.equal([
        ['PEM private key (encrypted)', 'medium'],
      ]);
      // A parser naming the header (cryptography's ssh.py) holds no key.
      expect(
        secretsIn(
          '_SK_START = b"-----BEGIN OPENSSH PRIVATE KEY-----"\n_SK_END = b"-----END OPENSSH PRIVATE KEY-----"\n',
        ),
      ).to.deep.equal([]);
      expect(secretsIn(pem.replace(/-----END [A-Z ]+-----/, ''))).to.deep.equal([]);
      expect(secretsIn(`aws_access_key_id = ${fakeAwsKeyId()}`).map((s) => [s.kind, s.detail])).to.deep.equal(
        [['secret', 'AWS access key ID']],
      );
      expect(secretsIn('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).to.deep.equal([]);
    });

    it('reads scripts for pools but not other text files, and skips test and doc trees for keys', () => {
      const pool = Buffer.from('#!/bin/sh\nexec ./w -o stratum+ssl://p.example:443\n');
      expect(smallFileFindings('opt/run', pool).map((f) => f.kind)).to.deep.equal(['mining-pool']);
      expect(smallFileFindings('etc/falco/rules.yaml', Buffer.from('- stratum+tcp://'))).to.deep.equal([]);
      expect(smallFileFindings('app/key.pem', Buffer.from(pem)).map((f) => f.kind)).to.deep.equal([
        'private-key',
      ]);
      expect(smallFileFindings('usr/lib/python3.11/test/keycert.pem', Buffer.from(pem))).to.deep.equal([]);
      expect(smallFileFindings('usr/share/doc/x/key.pem', Buffer.from(pem))).to.deep.equal([]);
      const bin = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]), Buffer.from(pem)]);
      expect(smallFileFindings('usr/bin/tool', bin)).to.deep.equal([]);
    });

    it("finds a miner's strings in an executable across chunk boundaries", () => {
      const s = new MinerStringScanner();
      const blob = Buffer.concat([
        Buffer.alloc(70_000, 1),
        Buffer.from('xx stratum+tcp:// yy cryptonight zz'),
      ]);
      for (let i = 0; i < blob.length; i += 7) s.write(blob.subarray(i, i + 7));
      expect(s.found).to.equal(true);
      const one = new MinerStringScanner();
      one.write(Buffer.from('stratum+tcp:// only, no algorithm'));
      expect(one.found).to.equal(false);
    });

    it("finds a miner's strings wherever the chunks split them, and only when both are there", () => {
      const blob = Buffer.concat([
        Buffer.alloc(100, 1),
        Buffer.from('stratum+ssl://'),
        Buffer.alloc(37, 2),
        Buffer.from('donate-level'),
        Buffer.alloc(50, 3),
      ]);
      for (const size of [1, 2, 3, 5, 12, 13, 14, 15, 16, 29, 64, blob.length])
        for (let start = 0; start < size; start++) {
          const s = new MinerStringScanner();
          s.write(blob.subarray(0, start));
          for (let i = start; i < blob.length; i += size) s.write(blob.subarray(i, i + size));
          expect(s.found, `chunks of ${size} from ${start}`).to.equal(true);
        }
      // A stratum URL broken by a space, next to a mining string: only the latter, at any chunk size.
      const holed = Buffer.from('stratum+ssl:/ /x donate-level');
      for (const size of [1, 7, 13, 14, holed.length]) {
        const s = new MinerStringScanner();
        for (let i = 0; i < holed.length; i += size) s.write(holed.subarray(i, i + size));
        expect([s.stratum, s.mining, s.found], `chunks of ${size}`).to.deep.equal([false, true, false]);
      }
    });

    it('reads the config: pools in the entrypoint, miners run by it, keys in the environment', () => {
      const key = fakeAwsKeyId();
      const got = configFindings({
        config: {
          Entrypoint: ['/usr/local/bin/xmrig'],
          Cmd: ['-o', 'stratum+tcp://pool.example:3333'],
          Env: ['PATH=/usr/bin', `AWS_ACCESS_KEY_ID=${key}`, 'POOL=xmrpool.eu:9999'],
        },
      });
      expect(got.map((f) => `${f.kind} ${f.path}`)).to.deep.equal([
        'mining-pool entrypoint',
        'miner entrypoint',
        'secret env',
        'mining-pool env',
      ]);
      expect(JSON.stringify(got)).not.to.contain(key);
      expect(configFindings({ config: { Entrypoint: ['/app/server'], Env: ['PATH=/bin'] } })).to.deep.equal(
        [],
      );
    });

    it('reads the files dpkg and apk say their packages own', () => {
      const owned = ownedPaths(
        [Buffer.from('/.\n/bin\n/bin/su\n')],
        Buffer.from('P:busybox\nV:1\nF:bin\nR:busybox\nR:ping\n\nP:x\nR:toplevel\n'),
      );
      expect([...owned].sort()).to.deep.equal([
        '/bin',
        '/bin/busybox',
        '/bin/ping',
        '/bin/su',
        '/toplevel',
        '/usr/bin/busybox',
        '/usr/bin/ping',
        '/usr/bin/su',
      ]);
      // Merged /usr: dpkg lists /bin/mount, the layer holds usr/bin/mount (and the reverse).
      expect(
        ownedPaths([Buffer.from('/usr/sbin/unix_chkpwd\n')], undefined).has('/sbin/unix_chkpwd'),
      ).to.equal(true);
    });
  });

  describe('an OCI image built here', () => {
    let a: ImageAnalysis;
    let awsKey: string;

    before(async () => {
      awsKey = fakeAwsKeyId();
      const layout = join(dir, 'oci');
      mkdirSync(layout, { recursive: true });
      const put = (tree: string, path: string, content: string | Buffer, mode = 0o644): void => {
        const f = join(dir, tree, path);
        mkdirSync(dirname(f), { recursive: true });
        writeFileSync(f, content);
        chmodSync(f, mode);
      };
      // Layer 1: a distribution's files, with dpkg's list of what package owns what.
      put('l1', 'var/lib/dpkg/status', 'Package: login\nStatus: install ok installed\nVersion: 1:4.13\n\n');
      put('l1', 'var/lib/dpkg/info/login.list', '/.\n/bin\n/bin/su\n');
      put('l1', 'var/lib/dpkg/info/mount.list', '/.\n/bin\n/bin/mount\n');
      put('l1', 'bin/su', '#!/bin/true\n', 0o4755);
      // Merged /usr: listed as /bin/mount, stored as usr/bin/mount.
      put('l1', 'usr/bin/mount', '#!/bin/true\n', 0o4755);
      put('l1', 'usr/lib/python3/dist-packages/lib/tests/key.pem', pem);
      put('l1', 'etc/falco/rules.yaml', 'condition: proc.cmdline contains "stratum+tcp://"\n');
      // Layer 2: what the image adds. The "miner" is a harmless script under a miner's name.
      put('l2', 'usr/local/bin/xmrig', '#!/bin/sh\necho not a miner\n', 0o755);
      put('l2', 'usr/local/bin/helper', '#!/bin/sh\nid\n', 0o4755);
      put('l2', 'usr/local/bin/group-tool', '#!/bin/sh\nid\n', 0o2755);
      put('l2', 'app/deploy.key', pem);
      put('l2', 'root/.ssh/id_ed25519', sshKey, 0o600);
      put('l2', 'app/.env', `AWS_ACCESS_KEY_ID=${awsKey}\n`);
      put('l2', 'opt/start.sh', 'exec /opt/w --url stratum+tcp://pool.example.net:3333\n', 0o755);
      put('l2', 'opt/miner/config.json', '{"donate-level": 1, "pools": [{"url": "p.example:3333"}]}\n');
      put(
        'l2',
        'opt/bin/worker',
        Buffer.concat([Buffer.alloc(100_000, 0x90), Buffer.from('\0stratum+ssl://\0RandomX\0')]),
        0o755,
      );
      put(
        'l2',
        'opt/bin/server',
        Buffer.concat([Buffer.alloc(100_000, 0x90), Buffer.from('\0stratum+tcp://\0')]),
        0o755,
      );
      // Layer 3: deletes the key (still in layer 2's blob) and the miner (gone for good);
      // replaces the setgid tool with a plain file.
      put('l3', 'app/.wh.deploy.key', '');
      put('l3', 'usr/local/bin/.wh.xmrig', '');
      put('l3', 'usr/local/bin/group-tool', '#!/bin/sh\nid\n', 0o755);
      const layers = ['l1', 'l2', 'l3'].map((t) => layerFromDir(layout, join(dir, t), t));
      writeImage(
        layout,
        layers,
        {
          user: '0',
          env: ['PATH=/usr/bin'],
          entrypoint: ['/opt/start.sh'],
          cmd: [],
          workingDir: '/',
          exposedPorts: [],
          labels: {},
        },
        'suspicious:1',
      );
      a = await analyseImage(`oci:${layout}`);
    });

    it('reports each suspicious item once, and nothing the distribution or a test tree owns', () => {
      expect(a.suspicious.map((s) => `${s.severity} ${s.kind} ${s.path}`)).to.deep.equal([
        'critical miner /opt/bin/worker',
        'critical miner /opt/miner/config.json',
        'critical mining-pool /opt/start.sh',
        'high secret /app/.env',
        'high private-key /app/deploy.key',
        'high private-key /root/.ssh/id_ed25519',
        'medium setuid /usr/local/bin/helper',
      ]);
    });

    it('says a deleted key is still in the earlier layer, and names the layer of the others', () => {
      const byPath = new Map(a.suspicious.map((s) => [s.path, s.detail]));
      expect(byPath.get('/app/deploy.key')).to.equal(
        'PEM private key in layer 2 of 3, deleted by layer 3 but still in the earlier layer, which anyone who can pull the image can read',
      );
      expect(byPath.get('/root/.ssh/id_ed25519')).to.equal('OpenSSH private key (layer 2 of 3)');
      expect(byPath.get('/usr/local/bin/helper')).to.equal(
        'setuid file (mode 4755) that no installed package lists (added in layer 2 of 3)',
      );
      expect(JSON.stringify(a.suspicious)).not.to.contain(awsKey);
    });

    it('still lists the packages', () => {
      expect(a.inventory.packages.map((p) => p.name)).to.deep.equal(['login']);
    });
  });
});
