/**
 * Credential detection for manifest text: pure functions, no I/O. Detections
 * carry a type name and where in the text they were found, never the value:
 * callers build messages from them, so nothing here can leak a secret.
 *
 * Three layers, from most to least certain:
 * 1. Known formats (`known: true`): provider tokens with a fixed prefix and
 *    shape (AWS access key ids, GitHub, GitLab, Slack, Stripe live keys, Google
 *    API keys, npm, SendGrid, OpenAI) and PEM private key blocks; plus an AWS
 *    secret access key (40 base64 characters) when the name says so.
 * 2. Structural secrets (`known: false`): JSON Web Tokens whose header decodes
 *    to a JOSE header, and passwords embedded in URLs (scheme://user:pw@host).
 * 3. Named literals (`known: false`): a value held by a variable, flag or key
 *    whose NAME marks it as secret. Password-like names (PASSWORD, PASSWD, PWD,
 *    PASS, PASSPHRASE) report any literal ("changeme" is a hardcoded password,
 *    reported as a well-known default); other secret names (SECRET, TOKEN,
 *    API_KEY, CREDENTIALS, …) report well-known defaults and values that look
 *    random: at least `minLength` characters, Shannon entropy at least
 *    `minEntropy` bits per character, and two or more character classes
 *    (lower, upper, digits, symbols other than the separators - _ .).
 *
 * Never reported: empty and null-like values, booleans, file paths, URLs
 * without credentials, masked values (****), and references resolved at run
 * time: $(VAR) (Kubernetes), ${VAR} (shell/envsubst), {{ … }} (templates),
 * <placeholder>, and secret-manager references (vault:, ref+…, arn:aws:secretsmanager:, …).
 * Names ending in FILE, PATH, NAME, URL, USER, ID, TTL, … are metadata about
 * a secret, not the secret.
 */

export interface Detection {
  /** Human-readable kind of secret, e.g. "AWS access key ID". Never the value. */
  type: string;
  /** True for provider formats and private keys (near-certain credentials). */
  known: boolean;
  /** Name of the variable, flag or key inside the scanned text that holds it, when there is one. */
  key?: string;
  /** 1-based line within a multi-line value. */
  line?: number;
}

export interface ScanOptions {
  minEntropy: number;
  minLength: number;
}

export const DEFAULT_SCAN_OPTIONS: ScanOptions = { minEntropy: 3.0, minLength: 8 };

/** Longest token or line the structural and line scanners look at (bounds regex work on huge values). */
const MAX_SCAN_UNIT = 8192;

const KNOWN_FORMATS: { type: string; re: RegExp }[] = [
  { type: 'AWS access key ID', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/ },
  { type: 'GitHub token', re: /(?<![A-Za-z0-9_])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}(?![A-Za-z0-9])/ },
  { type: 'GitHub token', re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{50,}/ },
  { type: 'GitLab token', re: /(?<![A-Za-z0-9_])(?:glpat|gldt|glrt|glptt)-[A-Za-z0-9_-]{20,}/ },
  { type: 'Slack token', re: /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}/ },
  {
    type: 'Slack webhook URL',
    re: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+/,
  },
  { type: 'Stripe live secret key', re: /(?<![A-Za-z0-9])[sr]k_live_[A-Za-z0-9]{20,}/ },
  { type: 'Google API key', re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/ },
  { type: 'npm access token', re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/ },
  {
    type: 'SendGrid API key',
    re: /(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/,
  },
  { type: 'OpenAI API key', re: /(?<![A-Za-z0-9])sk-(?:proj-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}/ },
  { type: 'private key (PEM)', re: /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/ },
];

/** Types of every known-format credential in the text, in a fixed order, without duplicates. */
export function detectKnown(text: string): string[] {
  const out: string[] = [];
  for (const f of KNOWN_FORMATS) if (!out.includes(f.type) && f.re.test(text)) out.push(f.type);
  return out;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  let n = 0;
  for (const ch of s) {
    counts.set(ch, (counts.get(ch) ?? 0) + 1);
    n++;
  }
  let h = 0;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;

/** Does the text contain a JWT (three base64url segments whose header decodes to a JOSE header)? */
export function containsJwt(text: string): boolean {
  JWT.lastIndex = 0;
  let m: RegExpExecArray | null;
  let tries = 0;
  while ((m = JWT.exec(text)) !== null && tries++ < 20) {
    const header = m[0].slice(0, m[0].indexOf('.'));
    try {
      const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'alg' in parsed) return true;
    } catch {
      // not JSON: not a JWT
    }
  }
  return false;
}

/** Does the text contain a URL with a literal password in its userinfo (scheme://user:pw@host)? */
export function containsUrlPassword(text: string): boolean {
  let from = 0;
  for (let i = 0; i < 50; i++) {
    const at = text.indexOf('://', from);
    if (at < 0) return false;
    from = at + 3;
    const rest = text.slice(from, from + MAX_SCAN_UNIT);
    const end = rest.search(/[/?#\s"'`<>]/);
    const authority = end < 0 ? rest : rest.slice(0, end);
    const atSign = authority.lastIndexOf('@');
    if (atSign < 0) continue;
    const userinfo = authority.slice(0, atSign);
    const colon = userinfo.indexOf(':');
    if (colon < 0) continue;
    const pw = userinfo.slice(colon + 1);
    if (pw === '' || isRuntimeReference(pw) || /^\*+$/.test(pw) || /^x+$/i.test(pw)) continue;
    return true;
  }
  return false;
}

const SECRET_STORE_REF =
  /^(?:vault:|ref\+|arn:aws:secretsmanager:|arn:aws:ssm:|sm:\/\/|berglas:\/\/|projects\/[^/]+\/secrets\/|akv:|azurekeyvault:|op:\/\/|gcp:secretmanager:|secret:\/\/|aws-sm:|awssm:)/i;

/** Values filled in at deploy or run time rather than literal secrets. */
export function isRuntimeReference(v: string): boolean {
  const t = v.trim();
  if (t.includes('$(') || t.includes('${') || t.includes('{{') || t.includes('`')) return true;
  if (/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(t)) return true;
  if (
    /^%[A-Za-z_][\w.]*%$/.test(t) ||
    /^<[^<>]+>$/.test(t) ||
    /^__[A-Z0-9_]+__$/.test(t) ||
    /^#\{[^}]+\}#?$/.test(t)
  )
    return true;
  return SECRET_STORE_REF.test(t);
}

const NULLISH = new Set(['', 'null', 'nil', 'none', 'undefined', '~', '""', "''"]);
const BOOLEANISH = new Set([
  'true',
  'false',
  'yes',
  'no',
  'on',
  'off',
  'enabled',
  'disabled',
  'enable',
  'disable',
  '0',
  '1',
  'y',
  'n',
]);

/** Values that are never a secret whatever the name says. */
export function isNonSecretValue(v: string): boolean {
  const t = v.trim();
  const lower = t.toLowerCase();
  if (NULLISH.has(lower) || BOOLEANISH.has(lower)) return true;
  if (/^\*+$/.test(t)) return true;
  if (/^(?:\/|\.\/|\.\.\/|~\/)[^\s:]*$/.test(t) && t.length > 1) return true;
  if (/^[A-Za-z]:\\/.test(t)) return true;
  return isRuntimeReference(t);
}

const WEAK = new Set([
  'changeme',
  'change_me',
  'change-me',
  'changeit',
  'password',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'password1',
  'password123',
  'secret',
  'secret123',
  's3cr3t',
  'admin',
  'admin123',
  'administrator',
  'root',
  'toor',
  'test',
  'testing',
  'test123',
  'guest',
  'default',
  'letmein',
  'welcome',
  'qwerty',
  '1234',
  '12345',
  '123456',
  '1234567',
  '12345678',
  '123456789',
  'example',
  'demo',
  'pass',
  'postgres',
  'mysql',
  'redis',
  'master',
  'user',
  'hunter2',
  'replace_me',
  'replaceme',
  'todo',
  'xxx',
  'xxxx',
  'xxxxxx',
]);

export function isWellKnownDefault(v: string): boolean {
  return WEAK.has(v.trim().toLowerCase());
}

/** Splits a variable, flag or key name into upper-case words: dbPassword, DB_PASSWORD, db.password → DB PASSWORD. */
export function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((t) => t !== '');
}

const PASSWORD_WORDS = new Set(['PASSWORD', 'PASSWORDS', 'PASSWD', 'PWD', 'PASS', 'PASSPHRASE', 'PASSCODE']);
const SECRET_WORDS = new Set([
  'SECRET',
  'SECRETS',
  'TOKEN',
  'TOKENS',
  'CREDENTIAL',
  'CREDENTIALS',
  'CREDS',
  'APIKEY',
  'PRIVKEY',
]);
const KEY_QUALIFIERS = new Set([
  'API',
  'ACCESS',
  'PRIVATE',
  'SECRET',
  'SIGNING',
  'ENCRYPTION',
  'ENCRYPT',
  'MASTER',
  'LICENSE',
  'AUTH',
  'CLIENT',
  'APP',
  'HMAC',
  'JWT',
  'SESSION',
  'CRYPTO',
  'SHARED',
  'WEBHOOK',
  'COOKIE',
]);
/** Last words that make a name metadata about a secret rather than the secret. */
const NON_SECRET_LAST = new Set([
  'FILE',
  'FILES',
  'PATH',
  'DIR',
  'NAME',
  'NAMES',
  'URL',
  'URI',
  'ENDPOINT',
  'HOST',
  'PORT',
  'USER',
  'USERNAME',
  'LOGIN',
  'ID',
  'IDS',
  'ENABLED',
  'ENABLE',
  'DISABLED',
  'DISABLE',
  'REQUIRED',
  'TTL',
  'TIMEOUT',
  'EXPIRY',
  'EXPIRATION',
  'EXPIRES',
  'EXPIRE',
  'LIFETIME',
  'AGE',
  'LENGTH',
  'LEN',
  'MIN',
  'MAX',
  'SIZE',
  'COUNT',
  'HEADER',
  'TYPE',
  'MODE',
  'REF',
  'VERSION',
  'ALGORITHM',
  'ALGO',
  'ALG',
  'ROTATION',
  'INTERVAL',
  'PERIOD',
  'POLICY',
  'REGION',
  'LOCATION',
  'SOURCE',
  'PROVIDER',
  'FORMAT',
  'ISSUER',
  'AUDIENCE',
  'SCOPE',
  'SCOPES',
  'FIELD',
  'PREFIX',
  'SUFFIX',
  'HASH',
  'HASHED',
  'HASHER',
  'STRENGTH',
  'COMPLEXITY',
  'RULES',
  'ROUNDS',
  'COST',
  'ITERATIONS',
  'BACKEND',
  'STORE',
  'MOUNT',
  'VOLUME',
  'NAMESPACE',
  'SELECTOR',
  'LABEL',
  'ANNOTATION',
  'KIND',
  'CLASS',
  'LEVEL',
  'THRESHOLD',
  'LIMIT',
  'RETRIES',
  'ATTEMPTS',
  'CACHE',
  'DELAY',
  'PROMPT',
  'RESET',
  'STRATEGY',
  'METHOD',
  'SERVER',
  'SERVICE',
  'ENCODING',
  'CHARSET',
  'THROUGH',
]);

export type SecretNameKind = 'password' | 'secret' | 'aws-secret';

/** Does the name mark its value as a secret, and of which kind? */
export function secretNameKind(name: string): SecretNameKind | undefined {
  const t = nameTokens(name);
  const last = t[t.length - 1];
  if (last === undefined || NON_SECRET_LAST.has(last) || t.includes('PUBLIC')) return undefined;
  if (t.includes('AWS') && t.some((w) => w.includes('SECRET'))) return 'aws-secret';
  if (t.includes('SECRET') && t.includes('ACCESS') && t.includes('KEY')) return 'aws-secret';
  if (t.some((w) => PASSWORD_WORDS.has(w) || w.endsWith('PASSWORD') || w.endsWith('PASSWD')))
    return 'password';
  if (
    t.some(
      (w) =>
        SECRET_WORDS.has(w) ||
        w.includes('SECRET') ||
        w.endsWith('TOKEN') ||
        w.endsWith('APIKEY') ||
        w.endsWith('PRIVATEKEY'),
    )
  )
    return 'secret';
  for (let i = 1; i < t.length; i++)
    if (t[i] === 'KEY' && KEY_QUALIFIERS.has(t[i - 1] ?? '')) return 'secret';
  return undefined;
}

/** Lower case, upper case, digits, symbols; the identifier separators - _ . do not count as symbols. */
function charClasses(v: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9._-]/].filter((re) => re.test(v)).length;
}

/** Strips one pair of matching quotes. */
function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

/** Classifies a literal held by something named `name` (layer 3). Undefined when it is no secret. */
export function classifyNamedLiteral(name: string, raw: string, opts: ScanOptions): Detection | undefined {
  const kind = secretNameKind(name);
  if (kind === undefined) return undefined;
  const v = unquote(raw);
  if (isNonSecretValue(v)) return undefined;
  if (kind === 'aws-secret' && /^[A-Za-z0-9/+]{40}$/.test(v))
    return { type: 'AWS secret access key', known: true };
  if (kind === 'password')
    return {
      type: isWellKnownDefault(v) ? 'well-known default password' : 'hardcoded password',
      known: false,
    };
  if (isWellKnownDefault(v)) return { type: 'well-known default secret', known: false };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /\s/.test(v)) return undefined;
  if (v.length >= opts.minLength && charClasses(v) >= 2 && shannonEntropy(v) >= opts.minEntropy)
    return { type: 'high-entropy value in a secret-named field', known: false };
  return undefined;
}

/** Layers 1 and 2 over free text (no name known); layer 2 only when layer 1 found nothing. */
export function scanUnnamed(text: string): Detection[] {
  const out: Detection[] = detectKnown(text).map((type) => ({ type, known: true }));
  // A known credential explains the text (e.g. a token used as a URL password): report it alone.
  if (out.length > 0) return out;
  if (containsJwt(text)) out.push({ type: 'JSON Web Token', known: false });
  if (containsUrlPassword(text)) out.push({ type: 'password embedded in a URL', known: false });
  return out;
}

/**
 * A value with a name (env var, flag, ConfigMap key): all three layers. A named
 * literal is only reported when the value holds nothing more specific.
 */
export function scanNamed(name: string, value: string, opts: ScanOptions): Detection[] {
  const out = scanUnnamed(value);
  if (out.length > 0) return out;
  const d = classifyNamedLiteral(name, value, opts);
  return d ? [d] : [];
}

const KV_LINE = /^\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.[\]-]{0,200})["']?\s*[:=]\s*(.*)$/;
const XML_ELEMENT = /<([A-Za-z_][\w.-]{0,100})>([^<]{1,1000})<\/\1>/g;
const CONN_STRING_PASSWORD = /(?:^|[;\s])(password|pwd)\s*=\s*([^;]*)/gi;
const FLAG_OR_ASSIGNMENT = /^(?:-{1,2})?([A-Za-z_][A-Za-z0-9_.-]{0,200})=(.*)$/s;

/** Value part of a `key: value` / `key=value` line: quotes, trailing commas and comments removed. */
function lineValue(raw: string): string {
  let v = raw.trim();
  if (v.startsWith('"') || v.startsWith("'")) {
    const end = v.indexOf(v[0] ?? '"', 1);
    return end > 0 ? v.slice(1, end) : v.slice(1);
  }
  v = v.replace(/\s+[#;].*$/, '').replace(/,$/, '');
  return v.trim();
}

function namedInLine(line: string, opts: ScanOptions): Detection[] {
  const out: Detection[] = [];
  const kv = KV_LINE.exec(line);
  if (kv) {
    const key = kv[1] ?? '';
    const v = lineValue(kv[2] ?? '');
    if (!/^[|>][+-]?\d*$/.test(v)) {
      const d = classifyNamedLiteral(key, v, opts);
      if (d) out.push({ ...d, key });
    }
  }
  XML_ELEMENT.lastIndex = 0;
  for (const m of line.matchAll(XML_ELEMENT)) {
    const d = classifyNamedLiteral(m[1] ?? '', m[2] ?? '', opts);
    if (d) out.push({ ...d, key: m[1] ?? '' });
  }
  for (const m of line.matchAll(CONN_STRING_PASSWORD)) {
    const d = classifyNamedLiteral(m[1] ?? '', m[2] ?? '', opts);
    if (d) out.push({ ...d, key: m[1] ?? '' });
  }
  const words = splitShellWords(line);
  words.forEach((tok, i) => {
    const fa = FLAG_OR_ASSIGNMENT.exec(tok);
    const pair = fa ? undefined : flagPair(words[i - 1], tok);
    const key = fa ? (fa[1] ?? '') : pair;
    if (key === undefined) return;
    const d = classifyNamedLiteral(key, fa ? (fa[2] ?? '') : tok, opts);
    if (d) out.push({ ...d, key });
  });
  return out;
}

/** `--flag value`: the flag name when `prev` is a bare flag and `word` its value. */
function flagPair(prev: unknown, word: string): string | undefined {
  if (typeof prev !== 'string' || word.startsWith('-') || !/^-{1,2}[A-Za-z][\w.-]*$/.test(prev))
    return undefined;
  return prev.replace(/^-+/, '');
}

/** Whitespace-separated words with simple quote handling (enough for `sh -c` scripts and config lines). */
export function splitShellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (const ch of s.slice(0, MAX_SCAN_UNIT)) {
    if (quote) {
      if (ch === quote) quote = '';
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

function dedupe(ds: Detection[]): Detection[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.type}\u0000${d.key ?? ''}\u0000${d.line ?? 0}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Free text such as a script or a configuration file: known formats and
 * structural secrets anywhere, plus named literals in `key: value`,
 * `key=value`, `export KEY=value`, `--flag=value`, `<key>value</key>` and
 * connection-string `Password=…;` forms, line by line.
 */
export function scanText(text: string, opts: ScanOptions): Detection[] {
  const out = scanUnnamed(text);
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.slice(0, MAX_SCAN_UNIT);
    if (scanUnnamed(line).length > 0) return;
    for (const d of namedInLine(line, opts)) out.push(lines.length > 1 ? { ...d, line: i + 1 } : d);
  });
  return dedupe(out);
}

/**
 * A command line (container command/args, exec probes): each element is
 * scanned for known formats; `--flag=value` and `NAME=value` elements and
 * `--flag value` pairs are classified by the flag name; elements with
 * whitespace (shell scripts) are scanned as text.
 */
export function scanArgv(argv: readonly unknown[], opts: ScanOptions): (Detection & { index: number })[] {
  const out: (Detection & { index: number })[] = [];
  argv.forEach((a, index) => {
    if (typeof a !== 'string' || a === '') return;
    let found: Detection[];
    if (/\s/.test(a)) found = scanText(a, opts);
    else {
      const fa = FLAG_OR_ASSIGNMENT.exec(a);
      found = scanUnnamed(a).map((d) => (fa ? { ...d, key: fa[1] ?? '' } : d));
      if (found.length === 0) {
        const prev = index > 0 ? argv[index - 1] : undefined;
        if (fa) {
          const d = classifyNamedLiteral(fa[1] ?? '', fa[2] ?? '', opts);
          if (d) found = [{ ...d, key: fa[1] ?? '' }];
        } else {
          const flag = flagPair(prev, a);
          const d = flag === undefined ? undefined : classifyNamedLiteral(flag, a, opts);
          if (d && flag !== undefined) found = [{ ...d, key: flag }];
        }
      }
    }
    for (const d of found) out.push({ ...d, index });
  });
  return out;
}

/** A name safe to print: names that themselves look like credentials are withheld. */
export function printableName(name: string): string {
  if (detectKnown(name).length > 0 || containsJwt(name)) return '<name withheld>';
  return name.length > 80 ? `${name.slice(0, 80)}…` : name;
}
