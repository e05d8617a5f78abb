/**
 * A real alerting pipeline on loopback for e2e tests: Debian's Prometheus and
 * Alertmanager (`bash scripts/setup.sh prometheus`), scraping given targets
 * every second, evaluating Vigil's rules every second, and delivering to a
 * webhook receiver this process runs. Everything lives in a temporary
 * directory; `stop()` ends only the processes it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toYaml } from '../../operator/src/yaml.ts';
import { freePort, waitFor } from '../controlplane/controlplane.ts';

/** One Alertmanager webhook delivery, with the time this process received it. */
export interface Notification {
  receivedAt: number;
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

export interface StackOptions {
  /** host:port targets scraped as job "vigil" (honor_labels, like the ServiceMonitor). */
  targets: string[];
  /** Plain Prometheus rules file contents. */
  rules: string;
}

export class AlertingStack {
  readonly dir: string;
  readonly notifications: Notification[] = [];
  prometheusUrl = '';
  alertmanagerUrl = '';
  private readonly children = new Map<string, ChildProcess>();
  private webhook: Server | undefined;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async start(opts: StackOptions): Promise<AlertingStack> {
    const stack = new AlertingStack(mkdtempSync(join(tmpdir(), 'vigil-alerting-')));
    try {
      await stack.startAll(opts);
    } catch (e) {
      await stack.stop();
      throw e;
    }
    return stack;
  }

  private async startAll(opts: StackOptions): Promise<void> {
    const hookPort = await this.startWebhook();
    const amPort = await freePort();
    const promPort = await freePort();
    this.alertmanagerUrl = `http://127.0.0.1:${amPort}`;
    this.prometheusUrl = `http://127.0.0.1:${promPort}`;

    writeFileSync(
      join(this.dir, 'alertmanager.yml'),
      toYaml({
        global: { resolve_timeout: '5s' },
        route: {
          receiver: 'webhook',
          group_by: ['alertname', 'policy', 'namespace'],
          group_wait: '1s',
          group_interval: '1s',
          repeat_interval: '1h',
        },
        receivers: [
          {
            name: 'webhook',
            webhook_configs: [{ url: `http://127.0.0.1:${hookPort}/alerts`, send_resolved: true }],
          },
        ],
      }),
    );
    this.spawnLogged('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${join(this.dir, 'alertmanager.yml')}`,
      `--storage.path=${join(this.dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ]);

    writeFileSync(join(this.dir, 'rules.yaml'), opts.rules);
    writeFileSync(
      join(this.dir, 'prometheus.yml'),
      toYaml({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: [join(this.dir, 'rules.yaml')],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
        scrape_configs: [
          { job_name: 'vigil', honor_labels: true, static_configs: [{ targets: opts.targets }] },
        ],
      }),
    );
    this.spawnLogged('prometheus', 'prometheus', [
      `--config.file=${join(this.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(this.dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--rules.alert.resend-delay=1s',
      '--log.level=warn',
    ]);

    for (const [name, url] of [
      ['alertmanager', this.alertmanagerUrl],
      ['prometheus', this.prometheusUrl],
    ] as const) {
      await waitFor(
        `${name} ready`,
        async () => {
          this.assertRunning(name);
          return (await fetch(`${url}/-/ready`)).ok;
        },
        30_000,
        () => this.logTail(name),
      );
    }
  }

  private async startWebhook(): Promise<number> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        try {
          const n = JSON.parse(body) as Omit<Notification, 'receivedAt'>;
          this.notifications.push({ receivedAt: Date.now(), status: n.status, alerts: n.alerts });
        } catch {
          // Not a webhook payload: ignore.
        }
        res.writeHead(200).end();
      });
    });
    this.webhook = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  private spawnLogged(name: string, bin: string, args: string[]): void {
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    const child = spawn(bin, args, { stdio: ['ignore', log, log] });
    this.children.set(name, child);
  }

  private assertRunning(name: string): void {
    const c = this.children.get(name);
    if (c && (c.exitCode !== null || c.signalCode !== null)) {
      throw new Error(`${name} exited (code ${c.exitCode ?? c.signalCode})${this.logTail(name)}`);
    }
  }

  logTail(name: string, lines = 20): string {
    const f = join(this.dir, `${name}.log`);
    if (!existsSync(f)) return '';
    return `\n--- last lines of ${name}.log ---\n${readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n')}`;
  }

  /** GET a Prometheus HTTP API path; returns `data` or throws with the API error. */
  async promApi<T>(path: string): Promise<T> {
    const r = await fetch(`${this.prometheusUrl}${path}`);
    const body = (await r.json()) as { status: string; data?: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? r.status}`);
    return body.data as T;
  }

  /** Instant query; each result's labels and value. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const data = await this.promApi<{
      result: { metric: Record<string, string>; value: [number, string] }[];
    }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Alerts Prometheus currently holds (pending or firing). */
  async alerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
    return (
      await this.promApi<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')
    ).alerts;
  }

  /** Webhook deliveries of an alert with these labels, in the given status. */
  delivered(status: 'firing' | 'resolved', labels: Record<string, string>): Notification[] {
    return this.notifications.filter(
      (n) =>
        n.status === status &&
        n.alerts.some(
          (a) => a.status === status && Object.entries(labels).every(([k, v]) => a.labels[k] === v),
        ),
    );
  }

  async stop(): Promise<void> {
    const exits = [...this.children.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill('SIGKILL'), 5000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    this.children.clear();
    await new Promise<void>((resolve) => (this.webhook ? this.webhook.close(() => resolve()) : resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
