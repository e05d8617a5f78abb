import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Subject } from '../engine/types.ts';
import {
  decodeText,
  discoverFiles,
  loadInputs,
  parseManifests,
  readFileCapped,
  readStreamCapped,
  STDIN_NAME,
  type InputError,
} from './load.ts';

function parse(text: string, file = 'f.yaml'): { subjects: Subject[]; errors: InputError[] } {
  const subjects: Subject[] = [];
  const errors: InputError[] = [];
  parseManifests(text, file, subjects, errors);
  return { subjects, errors };
}

const POD = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\n';

describe('cli/load parseManifests', () => {
  it('gives every document its 1-based line, skipping empty documents', () => {
    const { subjects, errors } = parse(
      `# header\n---\n${POD}---\n---\n# only a comment\n---\n\n${POD.replace('name: p', 'name: q')}`,
    );
    expect(errors).to.deep.equal([]);
    expect(subjects.map((s) => [asName(s), s.location])).to.deep.equal([
      ['p', { file: 'f.yaml', line: 3 }],
      ['q', { file: 'f.yaml', line: 11 }],
    ]);
  });

  it('empty input, comments only, `~` and `null` documents produce nothing', () => {
    for (const text of ['', '\n\n', '# nothing\n', '---\n', '~\n', 'null\n---\n~\n']) {
      const r = parse(text);
      expect(r.subjects, JSON.stringify(text)).to.deep.equal([]);
      expect(r.errors, JSON.stringify(text)).to.deep.equal([]);
    }
  });

  it('reads YAML the way kubectl (go-yaml v2, YAML 1.1) does', () => {
    const { subjects } = parse(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  a: yes\n  b: on\n  c: off\n  d: 0644\n  e: 2026-01-01T00:00:00Z\n  f: 2026-01-01\n  g: 190:20:30\n  h: "yes"\n',
    );
    expect(subjects[0]?.object['spec']).to.deep.equal({
      a: true,
      b: true,
      c: false,
      d: 420,
      e: '2026-01-01T00:00:00Z',
      f: '2026-01-01',
      g: '190:20:30',
      h: 'yes',
    });
  });

  it('supports anchors, aliases and merge keys within the alias budget', () => {
    const { subjects, errors } = parse(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  base: &sc {runAsNonRoot: true}\n  containers:\n    - name: a\n      securityContext: *sc\n    - name: b\n      securityContext:\n        <<: *sc\n        privileged: false\n',
    );
    expect(errors).to.deep.equal([]);
    const containers = (subjects[0]?.object['spec'] as { containers: unknown[] }).containers;
    expect(containers).to.deep.equal([
      { name: 'a', securityContext: { runAsNonRoot: true } },
      { name: 'b', securityContext: { runAsNonRoot: true, privileged: false } },
    ]);
  });

  it('refuses a billion-laughs document quickly and keeps reading the stream', () => {
    const levels = ['a0: &a0 [x,x,x,x,x,x,x,x,x,x]'];
    for (let i = 1; i <= 9; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${levels.map((l) => `  ${l}`).join('\n')}\n`;
    const t0 = performance.now();
    const { subjects, errors } = parse(`${bomb}---\n${POD}`);
    expect(performance.now() - t0).to.be.lessThan(5000);
    expect(errors).to.have.length(1);
    // a1 expands to 10 aliases, so the aliases of a2 cross the budget of 100.
    expect(errors[0]?.line).to.equal(7);
    expect(errors[0]?.message).to.match(/too many aliases/i);
    expect(subjects.map(asName)).to.deep.equal(['p']);
  });

  it('an alias to the node that contains it is an error, not a cycle', () => {
    const { subjects, errors } = parse(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: &s\n  self: *s\n---\n${POD}`,
    );
    expect(errors.map((e) => [e.line, e.message])).to.deep.equal([
      [5, 'alias *s refers to the node that contains it'],
    ]);
    expect(subjects.map(asName)).to.deep.equal(['p']);
  });

  it('a syntax error names its own line; the documents before and after it are read', () => {
    const { subjects, errors } = parse(`${POD}---\n${POD}---\nmetadata:\n  name: "unterminated\n---\n${POD}`);
    expect(subjects).to.have.length(3);
    expect(errors).to.have.length(1);
    const broken = POD.split('\n').length * 2 + 1; // the line of metadata: in the third document
    expect(errors[0]?.line).to.be.within(broken, broken + 2);
  });

  it('duplicate keys are an error with the line of the second key', () => {
    const { subjects, errors } = parse(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: false\n  hostPID: true\n',
    );
    expect(subjects).to.deep.equal([]);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ file: 'f.yaml', line: 6 });
  });

  it('syntax errors name the line, are one line long, and spare the other documents', () => {
    const { subjects, errors } = parse(`${POD}---\nmetadata:\n  name: [x\n  other: 1\n---\n${POD}`);
    expect(subjects).to.have.length(2);
    expect(errors).to.have.length(1);
    expect(errors[0]?.line).to.be.within(5, 7);
    expect(errors[0]?.message).to.not.contain('\n');
  });

  it('unresolved aliases are errors, not crashes', () => {
    const { errors } = parse('apiVersion: v1\nkind: Pod\nmetadata: {name: *nope}\n');
    expect(errors).to.have.length(1);
  });

  it('documents that are not Kubernetes objects are errors naming the line', () => {
    const { subjects, errors } = parse(
      `${POD}---\n- a\n---\nplain scalar\n---\nkind: Pod\n---\napiVersion: v1\nkind: 7\n---\n{}\n`,
    );
    expect(subjects).to.have.length(1);
    expect(errors.map((e) => [e.line, e.message])).to.deep.equal([
      [5, 'document is a list, not a Kubernetes object (a mapping with apiVersion and kind)'],
      [7, 'document is a string, not a Kubernetes object (a mapping with apiVersion and kind)'],
      [9, 'not a Kubernetes object: apiVersion missing or not a string'],
      [11, 'not a Kubernetes object: kind missing or not a string'],
      [14, 'not a Kubernetes object: apiVersion and kind missing or not a string'],
    ]);
  });

  it('expands kind: List with a line per item and reports bad items', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n  - ${POD.trimEnd().split('\n').join('\n    ')}\n  - just a string\n  - ~\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: d}\n`;
    const { subjects, errors } = parse(text);
    expect(subjects.map((s) => [s.object.kind, s.location?.line])).to.deep.equal([
      ['Pod', 4],
      ['Deployment', 9],
    ]);
    expect(errors).to.deep.equal([
      {
        file: 'f.yaml',
        line: 7,
        message: 'items[1]: item is a string, not a Kubernetes object (a mapping with apiVersion and kind)',
      },
    ]);
  });

  it('an empty List is fine; a List whose items is not a list is an error', () => {
    expect(parse('apiVersion: v1\nkind: List\nitems: []\n')).to.deep.equal({ subjects: [], errors: [] });
    expect(parse('apiVersion: v1\nkind: List\n')).to.deep.equal({ subjects: [], errors: [] });
    expect(parse('apiVersion: v1\nkind: List\nitems: 3\n').errors).to.have.length(1);
  });

  it('typed lists (PodList) lend their kind and apiVersion to items that omit them', () => {
    const { subjects, errors } = parse(
      'apiVersion: v1\nkind: PodList\nitems:\n  - metadata: {name: a}\n  - kind: Pod\n    apiVersion: v1\n    metadata: {name: b}\n',
    );
    expect(errors).to.deep.equal([]);
    expect(subjects.map((s) => [s.object.apiVersion, s.object.kind, asName(s)])).to.deep.equal([
      ['v1', 'Pod', 'a'],
      ['v1', 'Pod', 'b'],
    ]);
  });

  it('parses JSON (single object, List, tab-indented) with lines', () => {
    const list = JSON.stringify(
      { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'j' } }] },
      null,
      '\t',
    );
    const { subjects, errors } = parse(list, 'l.json');
    expect(errors).to.deep.equal([]);
    expect(subjects[0]?.location).to.deep.equal({ file: 'l.json', line: 5 });
    const one = parse('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}', 'o.json');
    expect(one.subjects[0]?.location).to.deep.equal({ file: 'o.json', line: 1 });
  });

  it('__proto__ keys stay data and never pollute prototypes', () => {
    const { subjects } = parse(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n__proto__: {polluted: true}\n',
    );
    const obj = subjects[0]?.object as Record<string, unknown>;
    expect(Object.getPrototypeOf(obj)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect(Object.keys(obj)).to.include('__proto__');
  });

  it('deeply nested input is an error, not a crash', () => {
    const deep = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const { errors } = parse(deep);
    expect(errors).to.have.length(1);
    expect(errors[0]?.message).to.match(/nested too deeply/);
    // Deep enough that the parser itself gives up: the same plain message, not a stack error.
    const deeper = parse(`a: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n---\n${POD}`);
    expect(deeper.errors.map((e) => [e.line, e.message])).to.deep.equal([[1, 'nested too deeply']]);
    expect(deeper.subjects).to.have.length(1);
  });

  it('a list or map used as a key is an error naming its line, printed nowhere else', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      const block = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n';
      const explicit = parse(`${block}  labels:\n    ? [a, b]\n    : c\n---\n${POD}`);
      expect(explicit.errors).to.deep.equal([
        {
          file: 'f.yaml',
          line: 6,
          message: 'a mapping key is itself a list or a map; Kubernetes objects have string keys',
        },
      ]);
      expect(explicit.subjects).to.have.length(1);
      const flow = parse(`apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {{x: 1}: y}}\n`);
      expect(flow.errors.map((e) => e.line)).to.deep.equal([3]);
      // Text that merely looks like one (a `?` in a value, `]:` inside a string) is fine.
      const lookalike = parse(`${block}  annotations:\n    q: "why? [x]: y"\n`);
      expect(lookalike.errors).to.deep.equal([]);
      expect(lookalike.subjects).to.have.length(1);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).to.deep.equal([]);
  });
});

describe('cli/load decodeText', () => {
  it('decodes UTF-8 and strips a byte-order mark', () => {
    expect(decodeText(Buffer.from('\ufeffkind: Pod\n', 'utf8'), 'f')).to.equal('kind: Pod\n');
  });
  it('decodes UTF-16 with a byte-order mark (Windows PowerShell redirection)', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('kind: Pod\n', 'utf16le')]);
    expect(decodeText(le, 'f')).to.equal('kind: Pod\n');
    const be = Buffer.from('kind: Pod\n', 'utf16le').swap16();
    expect(decodeText(Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'f')).to.equal('kind: Pod\n');
  });
  it('refuses binary and invalid UTF-8 with a clear message', () => {
    expect(decodeText(Buffer.from([0x41, 0x00, 0x42]), 'b.yaml')).to.deep.equal({
      file: 'b.yaml',
      message: 'binary file (contains NUL bytes); expected YAML or JSON text',
    });
    expect(decodeText(Buffer.from([0x41, 0xc3, 0x28]), 'u.yaml')).to.deep.equal({
      file: 'u.yaml',
      message: 'not valid UTF-8 text; expected YAML or JSON',
    });
  });
});

describe('cli/load files', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-load-'));
    const w = (rel: string, content: string): void => {
      const p = join(dir, rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, content);
    };
    w('m/b.yaml', POD);
    w('m/a.yml', POD);
    w('m/sub/c.JSON', '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"c"}}');
    w('m/sub/readme.md', '# not scanned');
    w('m/.git/config.yaml', 'broken: [');
    w('m/node_modules/x/y.yaml', 'broken: [');
    w('explicit.txt', POD);
    symlinkSync(join(dir, 'm'), join(dir, 'm', 'sub', 'back'));
    symlinkSync(join(dir, 'nowhere.yaml'), join(dir, 'm', 'dangling.yaml'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('discovers manifests sorted, skipping hidden entries, node_modules, other extensions and loops', () => {
    const errors: InputError[] = [];
    const files = discoverFiles(['m', 'explicit.txt', '-', 'm/b.yaml', 'missing'], dir, errors);
    expect(files).to.deep.equal(['m/a.yml', 'm/b.yaml', 'm/sub/c.JSON', 'explicit.txt', '-']);
    expect(errors).to.deep.equal([
      { file: 'm/dangling.yaml', message: 'no such file or directory' },
      { file: 'missing', message: 'no such file or directory' },
    ]);
  });

  it('reads files under the cap and refuses larger ones', () => {
    const ok = readFileCapped(join(dir, 'm/b.yaml'), 'm/b.yaml', 1024);
    expect(Buffer.isBuffer(ok) && ok.toString()).to.equal(POD);
    const big = readFileCapped(join(dir, 'm/b.yaml'), 'm/b.yaml', 10);
    expect(big).to.deep.equal({
      file: 'm/b.yaml',
      message: 'file is larger than the 10 bytes limit (--max-file-size); refusing to read it',
    });
    expect(readFileCapped(join(dir, 'm'), 'm', 1024)).to.deep.equal({ file: 'm', message: 'is a directory' });
  });

  it('reads a stream under the cap and refuses a larger one', async () => {
    const chunks = (): Readable => Readable.from(['abc', Buffer.from('def')]);
    const ok = await readStreamCapped(chunks(), STDIN_NAME, 6);
    expect(Buffer.isBuffer(ok) && ok.toString()).to.equal('abcdef');
    expect(await readStreamCapped(chunks(), STDIN_NAME, 5))
      .to.have.property('message')
      .that.match(/larger than the 5 bytes limit/);
  });

  it('loadInputs combines files and stdin into one subject list', async () => {
    const stdin = Readable.from([POD.replace('name: p', 'name: from-stdin')]);
    const r = await loadInputs(['m', '-'], stdin, dir);
    expect(r.files).to.deep.equal(['m/a.yml', 'm/b.yaml', 'm/sub/c.JSON', STDIN_NAME]);
    expect(r.subjects.map((s) => `${s.location?.file}:${s.location?.line}`)).to.deep.equal([
      'm/a.yml:1',
      'm/b.yaml:1',
      'm/sub/c.JSON:1',
      '<stdin>:1',
    ]);
    expect(r.errors.map((e) => e.file)).to.deep.equal(['m/dangling.yaml']);
  });
});

function asName(s: Subject): unknown {
  return (s.object.metadata as { name?: unknown } | undefined)?.name;
}

describe('cli/load Helm charts and non-Kubernetes YAML (issue 19 item 6)', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-chart-'));
    const w = (rel: string, content: string): void => {
      const p = join(dir, rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, content);
    };
    w('app/pod.yaml', POD);
    w('app/chart/Chart.yaml', 'apiVersion: v2\nname: c\nversion: 1.0.0\n');
    w('app/chart/templates/pod.yaml', POD);
    w('app/values.yaml', 'replicas: 2\n');
    w('app/mixed.yaml', `${POD}---\nfoo: bar\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('skips charts and object-free files found in a directory with notes; mixed files stay errors', async () => {
    const r = await loadInputs(['app'], Readable.from([]), dir);
    expect(r.subjects.map((s) => s.location?.file)).to.deep.equal(['app/mixed.yaml', 'app/pod.yaml']);
    expect(r.files).to.deep.equal(['app/mixed.yaml', 'app/pod.yaml']);
    expect(r.notes.map((n) => n.file)).to.deep.equal(['app/chart', 'app/values.yaml']);
    expect(r.notes[0]?.message).to.match(
      /^is a Helm chart \(Chart\.yaml\).*helm template app\/chart \| vigil scan -$/,
    );
    expect(r.errors).to.deep.equal([
      {
        file: 'app/mixed.yaml',
        line: 5,
        message: 'not a Kubernetes object: apiVersion and kind missing or not a string',
      },
    ]);
  });

  it('a file named on the command line is parsed whatever it holds', async () => {
    const r = await loadInputs(['app/values.yaml', 'app/chart/templates/pod.yaml'], Readable.from([]), dir);
    expect(r.notes).to.deep.equal([]);
    expect(r.errors.map((e) => e.file)).to.deep.equal(['app/values.yaml']);
    expect(r.subjects).to.have.length(1);
  });
});
