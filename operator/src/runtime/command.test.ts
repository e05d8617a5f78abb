import { expect } from 'chai';
import { HELP, OPTIONS } from './command.ts';

describe('vigil operator --help', () => {
  it('documents every flag the command takes', () => {
    const flags = Object.keys(OPTIONS).filter((f) => f !== 'help');
    expect(flags).to.include.members(['lease-name', 'event-qps']);
    for (const f of flags) expect(HELP, `--${f}`).to.match(new RegExp(`^  --${f}\\b`, 'm'));
  });
});
