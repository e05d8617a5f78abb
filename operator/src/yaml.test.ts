/**
 * The one YAML parser and writer (yaml.ts): YAML 1.1 as kubectl reads it, and a writer whose
 * output reads back to the same value.
 */
import { expect } from 'chai';
import { parseYaml, parseYamlAll, toYaml, YAMLException } from './yaml.ts';

describe('yaml: reading as kubectl (go-yaml v2) does', () => {
  it('YAML 1.1 scalars: yes/on/y booleans, octal, hex; timestamps and base-60 stay strings', () => {
    expect(
      parseYaml(
        'a: yes\nb: On\nc: n\nd: 0644\ne: 0x1F\nf: 2026-01-01\ng: 190:20:30\nh: 1.5\ni: ~\nj: "yes"\n',
      ),
    ).to.deep.equal({
      a: true,
      b: true,
      c: false,
      d: 420,
      e: 31,
      f: '2026-01-01',
      g: '190:20:30',
      h: 1.5,
      i: null,
      j: 'yes',
    });
  });

  it('unknown tags are read as the plain value they tag, scalars and collections alike', () => {
    expect(
      parseYaml('a: !foo bar\nb: !<tag:example.com,2026:x> 3\nc: !list [1, 2]\nd: !map {k: v}\n'),
    ).to.deep.equal({
      a: 'bar',
      b: '3',
      c: [1, 2],
      d: { k: 'v' },
    });
  });

  it('merge keys merge, a key written in the mapping overriding a merged one; duplicate keys are an error naming the line', () => {
    expect(parseYaml('base: &b {one: 1, two: 2}\nc:\n  <<: *b\n  two: 3\n')).to.deep.equal({
      base: { one: 1, two: 2 },
      c: { one: 1, two: 3 },
    });
    expect(() => parseYaml('a: 1\nb: 2\na: 3\n'))
      .to.throw(YAMLException)
      .with.property('mark')
      .that.has.property('line', 2);
  });

  it('streams: every document, an empty stream none; parseYaml refuses several', () => {
    expect(parseYamlAll('a: 1\n---\nb: 2\n')).to.deep.equal([{ a: 1 }, { b: 2 }]);
    expect(parseYamlAll('')).to.deep.equal([]);
    expect(parseYaml('')).to.equal(null);
    expect(() => parseYaml('a: 1\n---\nb: 2\n')).to.throw(/one YAML document/);
  });
});

describe('yaml: writing', () => {
  it('writes block YAML that reads back to the same value, strings kubectl would misread quoted', () => {
    const value = {
      kind: 'ConfigMap',
      data: { enabled: 'yes', mode: '0644', when: '2026-01-01', long: 'x'.repeat(300), multi: 'a\nb\n' },
      list: [{ name: 'a' }, 1, true, null],
    };
    const text = toYaml(value);
    expect(parseYaml(text)).to.deep.equal(value);
    expect(text).to.not.contain('>-'); // long strings are not folded
    expect(text.split('\n').some((l) => l.length > 300)).to.equal(true);
  });

  it('a shared object is written out again, never as an anchor and alias', () => {
    const shared = { a: 1 };
    const text = toYaml({ x: shared, y: shared });
    expect(text).to.not.match(/[&*]ref/);
    expect(parseYaml(text)).to.deep.equal({ x: { a: 1 }, y: { a: 1 } });
  });
});
