/**
 * Obviously fake credentials in real formats, for the secrets tests only.
 * Each is checked against every message: none may appear in one.
 */
export const FAKE = {
  awsKeyId: 'AKIAIOSFODNN7EXAMPLE',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  github: 'ghp_EXAMPLEfakeEXAMPLEfakeEXAMPLEfakeEXA',
  githubPat: 'github_pat_11EXAMPLE0fakeEXAMPLE0fake_EXAMPLEfakeEXAMPLEfakeEXAMPLEfakeEXAMPLEfake00',
  gitlab: 'glpat-EXAMPLEfake0Token1234',
  slack: 'xoxb-000000000000-000000000000-EXAMPLEfakeToken',
  stripe: 'sk_live_EXAMPLEfake0000000000000000',
  google: 'AIzaEXAMPLE-fake_key_EXAMPLE-fake_key_E',
  npm: 'npm_EXAMPLEfakeEXAMPLEfakeEXAMPLEfakeEXA',
  pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakeEXAMPLEfakeEXAMPLE\n-----END RSA PRIVATE KEY-----\n',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJleGFtcGxlLXVzZXIiLCJuYW1lIjoiRmFrZSBFeGFtcGxlIn0.ZmFrZS1zaWduYXR1cmUtbm90LXJlYWw',
  password: 'Tr0ub4dor&3-example',
  randomToken: 'q8Zr2VxK9mTn4Lw7Pb3Yd6Hs',
  hexSecret: '9f86d081884c7d659a2feaa0c55ad015',
} as const;

/** Every fake value plus a distinctive fragment of each (a message must not contain either). */
export const FORBIDDEN_IN_MESSAGES: string[] = [
  ...Object.values(FAKE),
  'IOSFODNN7',
  'bPxRfiCY',
  'EXAMPLEfakeEXAMPLE',
  'EXAMPLEfake0Token',
  'MIIEowIBAAKCAQEA',
  'Tr0ub4dor',
  'q8Zr2VxK',
  '9f86d081',
  'hunter2',
  'changeme',
  's3cr3t-pw',
];
