/**
 * `npm run demo`: a full backup cycle on a local AWS stand-in, no AWS account needed.
 *
 * Starts moto server on a free loopback port (MOTO_PORT to choose one; MOTO_PYTHON to choose the
 * Python), creates sample tables, then drives the real `ddb-backup` CLI as an operator would:
 * policies, two backup cycles (the second one prunes), coverage status, and a restore whose items
 * and settings are checked against the source. Exits 0 only when every check passed; moto is
 * stopped at the end, on failure and on Ctrl-C.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListBackupsCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ddbBackup, shown, stopCliNow, type CliRun } from './cli';
import { diffItems, scanAll, schemaOf } from './compare';
import { ensureMoto, portFromEnv, startMoto, stopAllNow, type MotoServer } from './moto';

const REGION = 'us-east-1';
const TAG_KEY = 'backup:policy';
const LEDGER = 'ddb-backup-ledger';
const RESTORED = 'orders-restored';

/** Where the demo writes its policy files; the CLI runs here. */
const workDir = mkdtempSync(join(tmpdir(), 'ddb-backup-demo-'));

/** A check that did not hold: what was expected, and what differed. */
class DemoFailure extends Error {
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- output

const out = (line = '') => process.stdout.write(`${line}\n`);
const say = (line: string) => out(`  ${line}`);
const cmdLine = (args: readonly string[]) => out(`  $ ${shown(args)}`);
let stepNo = 0;
const STEPS = 8;
let stepStarted = Date.now();
function step(title: string): void {
  stepNo++;
  stepStarted = Date.now();
  out();
  out(`[${stepNo}/${STEPS}] ${title}`);
}
const took = () => `${((Date.now() - stepStarted) / 1000).toFixed(1)} s`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');

let checksPassed = 0;
function check(ok: boolean, message: string, details: readonly string[] = []): asserts ok {
  if (!ok) throw new DemoFailure(message, details);
  checksPassed++;
}

// ---------------------------------------------------------------- the sample

interface SampleTable {
  readonly name: string;
  /** The value of the backup:policy tag; undefined for an untagged table. */
  readonly policyTag?: string;
  readonly otherTags: Record<string, string>;
  readonly items: Record<string, AttributeValue>[];
  readonly extra?: Partial<CreateTableCommandInput>;
  readonly keys: CreateTableCommandInput['KeySchema'];
  readonly attributes: CreateTableCommandInput['AttributeDefinitions'];
  readonly describe: string;
}

interface PolicySpec {
  readonly name: string;
  readonly keepLast: number;
  readonly json: Record<string, unknown>;
}

const POLICIES: readonly PolicySpec[] = [
  {
    name: 'daily',
    keepLast: 2,
    json: { description: 'Once a day; keeps the last 2.', schedule: 'cron(0 3 * * ? *)', minIntervalMinutes: 0, retention: { keepLast: 2 }, notify: 'all' },
  },
  {
    name: 'hourly',
    keepLast: 1,
    json: { description: 'Every hour; keeps only the last one.', schedule: 'rate(1 hour)', minIntervalMinutes: 0, retention: { keepLast: 1 }, notify: 'all' },
  },
];

function sampleTables(nowSeconds: number): SampleTable[] {
  const statuses = ['open', 'paid', 'shipped'];
  const orders = Array.from({ length: 25 }, (_, i) => ({
    pk: { S: `customer#${String(i % 5).padStart(2, '0')}` },
    sk: { S: `order#${String(i + 1).padStart(4, '0')}` },
    status: { S: statuses[i % 3] },
    total: { N: (12.5 * (i + 1)).toFixed(2) },
    paid: { BOOL: i % 3 !== 0 },
    lines: { L: [{ M: { sku: { S: `sku-${100 + i}` }, qty: { N: String(1 + (i % 4)) } } }] },
    labels: { SS: ['web', i % 2 ? 'gift' : 'standard'] },
    receipt: { B: Buffer.from(`receipt ${i + 1}`) },
    // TTL attribute, a month ahead: nothing expires during the demo.
    expiresAt: { N: String(nowSeconds + 30 * 86400 + i) },
  }));
  const users = Array.from({ length: 10 }, (_, i) => ({
    userId: { S: `user-${String(i + 1).padStart(3, '0')}` },
    email: { S: `user${i + 1}@example.com` },
    plan: { S: i % 4 ? 'free' : 'pro' },
  }));
  const sessions = Array.from({ length: 8 }, (_, i) => ({
    sessionId: { S: `s-${(0xa000 + i).toString(16)}` },
    userId: { S: `user-${String((i % 10) + 1).padStart(3, '0')}` },
  }));
  const scratch = Array.from({ length: 3 }, (_, i) => ({ id: { S: `tmp-${i + 1}` } }));
  const hashKey = (name: string) => ({
    keys: [{ AttributeName: name, KeyType: 'HASH' as const }],
    attributes: [{ AttributeName: name, AttributeType: 'S' as const }],
  });
  return [
    {
      name: 'orders',
      policyTag: 'daily',
      otherTags: { team: 'shop', 'cost-center': '42' },
      items: orders,
      keys: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      attributes: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
      ],
      extra: {
        GlobalSecondaryIndexes: [{ IndexName: 'by-status', KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      },
      describe: '25 items, index by-status, TTL on expiresAt, stream, PITR 7 days',
    },
    { name: 'users', policyTag: 'daily hourly', otherTags: { team: 'identity' }, items: users, ...hashKey('userId'), describe: '10 items' },
    { name: 'sessions', policyTag: 'hourly', otherTags: {}, items: sessions, ...hashKey('sessionId'), describe: '8 items' },
    { name: 'scratch', otherTags: { team: 'sandbox' }, items: scratch, ...hashKey('id'), describe: '3 items, no backup tag' },
  ];
}

/** The tables a policy backs up: those whose tag names it. */
function tablesOf(tables: readonly SampleTable[], policy: string): string[] {
  return tables.filter((t) => (t.policyTag ?? '').split(/[\s+]+/).includes(policy)).map((t) => t.name);
}

// ---------------------------------------------------------------- the CLI, checked

interface RunResult {
  table: string;
  policy: string;
  status: string;
  backupArn?: string;
  reason?: string;
  deleted?: number;
}
interface RunJson {
  results: RunResult[];
  problems: { kind: string; table?: string; message: string }[];
  notification?: { published: boolean; error?: string };
}

/** Runs `ddb-backup ...`, shows the command, and fails the demo on a non-zero exit or bad JSON. */
async function cli(args: string[]): Promise<CliRun> {
  cmdLine(args);
  const r = await ddbBackup(args, workDir);
  if (r.code !== 0) {
    throw new DemoFailure(`\`${shown(args)}\` exited with code ${r.code}`, [
      ...(r.stdout.trim() ? [`stdout: ${r.stdout.trim().slice(-2000)}`] : []),
      ...(r.stderr.trim() ? [`stderr: ${r.stderr.trim().slice(-2000)}`] : []),
    ]);
  }
  return r;
}

async function cliJson<T>(args: string[]): Promise<T> {
  const r = await cli(args);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new DemoFailure(`\`${shown(args)}\` did not print JSON`, [r.stdout.slice(0, 2000)]);
  }
}

// ---------------------------------------------------------------- notifications

/** The part of an SNS notification (as SQS receives it) the demo reads. */
interface Envelope {
  Subject?: string;
}

/** Reads (and deletes) `count` SNS notifications from the subscribed queue; fails after 20 s. */
async function receiveNotifications(sqs: SQSClient, queueUrl: string, count: number): Promise<Envelope[]> {
  const got: Envelope[] = [];
  const until = Date.now() + 20_000;
  while (got.length < count && Date.now() < until) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const msgs = r.Messages ?? [];
    for (const m of msgs) got.push(JSON.parse(m.Body ?? '{}') as Envelope);
    if (msgs.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }
  check(got.length === count, `expected ${count} run summaries on SNS, received ${got.length}`, got.map((e) => e.Subject ?? '?'));
  return got;
}

// ---------------------------------------------------------------- the demo

interface Cycle {
  /** policy -> table -> the run's result */
  readonly results: Map<string, Map<string, RunResult>>;
  readonly backups: number;
  readonly deleted: number;
}

async function runCycle(n: number, tables: readonly SampleTable[], sqs: SQSClient, queueUrl: string): Promise<Cycle> {
  const results = new Map<string, Map<string, RunResult>>();
  let backups = 0;
  let deleted = 0;
  for (const p of POLICIES) {
    const run = await cliJson<RunJson>(['run', '--policy', p.name, '--json']);
    const want = tablesOf(tables, p.name).sort();
    const got = run.results.map((r) => r.table).sort();
    check(JSON.stringify(got) === JSON.stringify(want), `${p.name}: expected backups of ${list(want)}, the run reported ${list(got)}`);
    const notBacked = run.results.filter((r) => r.status !== 'backed-up');
    check(notBacked.length === 0, `${p.name}: not every table was backed up`, notBacked.map((r) => `${r.table}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`));
    check(run.problems.length === 0, `${p.name}: the run reported problems`, run.problems.map((x) => `${x.kind}: ${x.message}`));
    check(run.notification?.published === true, `${p.name}: the run summary was not published to SNS`, [run.notification?.error ?? 'no notification in the output']);
    // Retention after every backup: cycle n leaves keepLast backups, so it deletes one per table
    // once n exceeds keepLast.
    const wantDeleted = n > p.keepLast ? 1 : 0;
    const wrong = run.results.filter((r) => (r.deleted ?? 0) !== wantDeleted);
    check(
      wrong.length === 0,
      `${p.name}: retention (keepLast ${p.keepLast}) should have deleted ${wantDeleted} backup per table in cycle ${n}`,
      wrong.map((r) => `${r.table}: deleted ${r.deleted ?? 0}`),
    );
    results.set(p.name, new Map(run.results.map((r) => [r.table, r])));
    backups += run.results.length;
    deleted += run.results.reduce((s, r) => s + (r.deleted ?? 0), 0);
  }
  const tablesBackedUp = new Set([...results.values()].flatMap((m) => [...m.keys()]));
  const byPolicy = POLICIES.map((p) => `${p.name}: ${list([...results.get(p.name)!.keys()])}`).join('; ');
  say(`backed up ${plural(tablesBackedUp.size, 'table')}${n > 1 ? ' again' : ''} (${plural(backups, 'backup')}: ${byPolicy})`);
  const untagged = tables.filter((t) => !t.policyTag).map((t) => t.name);
  if (untagged.length) say(`${list(untagged)}: no ${TAG_KEY} tag, so not backed up`);
  if (n > 1 || deleted > 0) {
    const pruned = POLICIES.flatMap((p) =>
      [...results.get(p.name)!.values()].filter((r) => (r.deleted ?? 0) > 0).map((r) => `${r.table} [${p.name}, keepLast ${p.keepLast}]`),
    );
    const kept = POLICIES.filter((p) => n <= p.keepLast).map((p) => `${p.name} keeps the last ${p.keepLast}, so none of its backups were due for pruning`);
    say(`pruned ${plural(deleted, 'backup')}${pruned.length ? `: ${pruned.join(', ')}` : ''}${kept.length ? `; ${kept.join('; ')}` : ''}`);
  }
  const notes = await receiveNotifications(sqs, queueUrl, POLICIES.length);
  for (const e of notes) {
    check((e.Subject ?? '').startsWith('[ddb-backup] OK: '), `unexpected run summary on SNS: ${e.Subject ?? '(no subject)'}`);
  }
  const subjects = notes.map((e) => `"${e.Subject}"`).sort();
  say(`notified over SNS: ${subjects.join(', ')}`);
  return { results, backups, deleted };
}

function ago(minutes: number): string {
  const s = Math.round(minutes * 60);
  return s < 120 ? `${s} s ago` : `${Math.round(minutes)} min ago`;
}
function rpo(minutes?: number): string {
  if (!minutes) return '';
  return minutes % 1440 === 0 ? ` (RPO ${minutes / 1440} d)` : minutes % 60 === 0 ? ` (RPO ${minutes / 60} h)` : ` (RPO ${minutes} min)`;
}

interface StatusJson {
  tables: {
    table: string;
    flags: string[];
    reasons: string[];
    policies: { name: string; ageMinutes?: number; rpoMinutes?: number; lastAttemptStatus?: string }[];
    pitr?: { enabled: boolean; recoveryPeriodDays?: number };
  }[];
  counts: Record<string, number>;
}

interface LedgerRecord {
  table: string;
  policy: string;
  status: string;
  backupArn?: string;
  backupName?: string;
}

interface PruneJson {
  plans: { table: string; policy: string; decisions: { action: string; reasons: string[] }[]; deleted: string[] }[];
}

interface RestoreJson {
  target: string;
  status: string;
  restore: { kind: string; backup?: { backupArn: string; backupName?: string; via?: string } };
  settingsOrigin: string;
  settings?: { applied: number; skipped: number; failed: number; results: { setting: string; outcome: string; detail: string }[] };
}

async function demo(moto: MotoServer): Promise<void> {
  const clientConfig = { region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } };
  const ddb = new DynamoDBClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  const sqs = new SQSClient(clientConfig);

  // ---- 2: sample tables, ledger, topic
  step('Create sample tables, the ledger and an SNS topic');
  const tables = sampleTables(Math.floor(Date.now() / 1000));
  for (const t of tables) {
    const tags = { ...(t.policyTag ? { [TAG_KEY]: t.policyTag } : {}), ...t.otherTags };
    await ddb.send(
      new CreateTableCommand({
        TableName: t.name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: t.keys,
        AttributeDefinitions: t.attributes,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        ...t.extra,
      }),
    );
    for (const item of t.items) await ddb.send(new PutItemCommand({ TableName: t.name, Item: item }));
    say(`${t.name.padEnd(9)} ${t.policyTag ? `${TAG_KEY}=${t.policyTag}`.padEnd(27) : ''.padEnd(27)} ${t.describe}`);
  }
  await ddb.send(new UpdateTimeToLiveCommand({ TableName: 'orders', TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }));
  await ddb.send(
    new UpdateContinuousBackupsCommand({ TableName: 'orders', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 } }),
  );
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'ddb-backup-demo' }))).TopicArn!;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ddb-backup-demo-inbox' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  say(`SNS topic ddb-backup-demo, read by the queue ddb-backup-demo-inbox`);
  // From here on, the CLI finds the ledger and the topic the way an operator's shell would.
  process.env.DDB_BACKUP_LEDGER_TABLE = LEDGER;
  process.env.DDB_BACKUP_TOPIC_ARN = topicArn;
  say(`export DDB_BACKUP_LEDGER_TABLE=${LEDGER} DDB_BACKUP_TOPIC_ARN=${topicArn}`);
  const init = await cli(['ledger', 'init']);
  say(init.stdout.trim());
  say(`created ${plural(tables.length, 'table')} with ${plural(tables.reduce((s, t) => s + t.items.length, 0), 'item')} (${took()})`);

  // ---- 3: policies
  step('Write two backup policies to SSM Parameter Store');
  for (const p of POLICIES) {
    const file = `${p.name}.json`;
    writeFileSync(join(workDir, file), `${JSON.stringify(p.json)}\n`);
    say(`${file}: ${JSON.stringify(p.json)}`);
    const r = await cli(['policy', 'put', '--file', file]);
    say(r.stdout.trim());
  }
  say(`${plural(POLICIES.length, 'policy', 'policies')} written (${took()})`);

  // ---- 4: cycle 1
  step('Backup cycle 1: run both policies');
  const cycle1 = await runCycle(1, tables, sqs, queueUrl);
  say(`cycle 1 done (${took()})`);

  // ---- 5: status
  step('Coverage: which tables are protected');
  const status = await cliJson<StatusJson>(['status', '--ignore', LEDGER, '--json']);
  for (const t of status.tables) {
    const what = t.policies.length
      ? t.policies.map((p) => `${p.name}: last backup ${p.ageMinutes !== undefined ? ago(p.ageMinutes) : 'never'}${rpo(p.rpoMinutes)}`).join('; ')
      : t.reasons.join('; ');
    say(`${t.table.padEnd(9)} ${(t.flags.join(' ') || 'ok').padEnd(12)} ${what}`);
  }
  for (const t of tables) {
    const row = status.tables.find((r) => r.table === t.name);
    check(row !== undefined, `status does not list ${t.name}`);
    if (t.policyTag) {
      check(row.flags.length === 0, `status flags ${t.name}: ${row.flags.join(' ')}`, row.reasons);
      const missing = POLICIES.filter((p) => tablesOf([t], p.name).length > 0 && !row.policies.some((x) => x.name === p.name && x.ageMinutes !== undefined));
      check(missing.length === 0, `status shows no backup of ${t.name} for ${list(missing.map((p) => p.name))}`);
    } else {
      check(row.flags.includes('UNPROTECTED'), `status should flag the untagged ${t.name} as UNPROTECTED, got ${row.flags.join(' ') || 'ok'}`);
    }
  }
  const ok = status.tables.filter((t) => t.flags.length === 0).length;
  say(`${plural(status.tables.length, 'table')}: ${ok} protected and fresh, ${status.counts.UNPROTECTED ?? 0} unprotected (as expected) (${took()})`);

  // ---- 6: cycle 2
  step('Backup cycle 2: run both policies again; retention prunes');
  const cycle2 = await runCycle(2, tables, sqs, queueUrl);
  const wantPruned = POLICIES.reduce((s, p) => s + (2 > p.keepLast ? tablesOf(tables, p.name).length : 0), 0);
  check(cycle2.deleted === wantPruned, `expected ${wantPruned} backups pruned in cycle 2, got ${cycle2.deleted}`);
  say(`cycle 2 done (${took()})`);

  // ---- 7: what is left
  step('Check retention: the ledger, DynamoDB and the prune plan agree');
  const listed = await cliJson<{ backups: LedgerRecord[] }>(['backups', 'list', '--json']);
  const problems: string[] = [];
  for (const p of POLICIES) {
    for (const table of tablesOf(tables, p.name)) {
      const recs = listed.backups.filter((r) => r.table === table && r.policy === p.name);
      const available = recs.filter((r) => r.status === 'AVAILABLE').map((r) => r.backupArn);
      const pruned = recs.filter((r) => r.status === 'DELETED').map((r) => r.backupArn);
      const newest = cycle2.results.get(p.name)!.get(table)!.backupArn;
      const oldest = cycle1.results.get(p.name)!.get(table)!.backupArn;
      const wantAvailable = Math.min(2, p.keepLast);
      if (available.length !== wantAvailable) problems.push(`${table} [${p.name}]: ${available.length} available in the ledger, expected ${wantAvailable}`);
      if (!available.includes(newest)) problems.push(`${table} [${p.name}]: the newest backup is not AVAILABLE in the ledger`);
      if (p.keepLast < 2 && !pruned.includes(oldest)) problems.push(`${table} [${p.name}]: the cycle 1 backup is not recorded as pruned`);
    }
  }
  const inLedger = new Map<string, Set<string>>();
  for (const r of listed.backups) if (r.status === 'AVAILABLE' && r.backupArn) inLedger.set(r.table, (inLedger.get(r.table) ?? new Set()).add(r.backupArn));
  const perTable: string[] = [];
  for (const t of tables) {
    const arns = new Set(((await ddb.send(new ListBackupsCommand({ TableName: t.name }))).BackupSummaries ?? []).map((b) => b.BackupArn!));
    const ledgerArns = inLedger.get(t.name) ?? new Set<string>();
    const same = arns.size === ledgerArns.size && [...arns].every((a) => ledgerArns.has(a));
    if (!same) problems.push(`${t.name}: DynamoDB lists ${arns.size} backup(s), the ledger ${ledgerArns.size} available`);
    const counts = POLICIES.map((p) => [p.name, listed.backups.filter((r) => r.table === t.name && r.policy === p.name && r.status === 'AVAILABLE').length] as const)
      .filter(([, n]) => n > 0)
      .map(([name, n]) => `${n} ${name}`);
    perTable.push(`${t.name} ${counts.join(' + ') || 'none'}`);
  }
  check(problems.length === 0, 'retention left the wrong backups', problems);
  const prunedTotal = listed.backups.filter((r) => r.status === 'DELETED').length;
  say(
    `ledger: ${plural(listed.backups.length, 'backup')} recorded, ${listed.backups.filter((r) => r.status === 'AVAILABLE').length} available, ${prunedTotal} pruned; DynamoDB lists the same`,
  );
  say(`kept: ${perTable.join(', ')}`);
  const plan = await cliJson<PruneJson>(['prune', '--policy', 'daily', '--dry-run', '--json']);
  for (const pl of plan.plans) {
    const keep = pl.decisions.filter((d) => d.action === 'keep');
    const del = pl.decisions.filter((d) => d.action === 'delete');
    say(`${pl.table}: keep ${keep.length} (${keep.map((d) => d.reasons.join(' + ')).join('; ')}), delete ${del.length}`);
    check(del.length === 0, `the daily plan for ${pl.table} would delete ${del.length} backup(s) right after the run pruned`);
  }
  say(`retention verified (${took()})`);

  // ---- 8: restore
  step('Restore orders from its latest backup into a new table');
  const restore = await cliJson<RestoreJson>(['restore', '--table', 'orders', '--target', RESTORED, '--latest', '--wait', '--json']);
  const latestArn = cycle2.results.get('daily')!.get('orders')!.backupArn;
  check(restore.status === 'ACTIVE', `${RESTORED} is ${restore.status}, not ACTIVE`);
  const used = restore.restore.backup;
  check(used !== undefined && used.backupArn === latestArn, `restore --latest used ${used?.backupArn ?? 'no backup'}, not the newest (${latestArn})`);
  check(restore.settings !== undefined && restore.settings.failed === 0, 'settings failed to re-apply', (restore.settings?.results ?? []).filter((r) => r.outcome === 'failed').map((r) => `${r.setting}: ${r.detail}`));
  const applied = restore.settings.results.filter((r) => r.outcome === 'applied').map((r) => r.setting);
  say(`restored ${RESTORED} from ${used.backupName ?? used.backupArn} (the newest: cycle 2's, found via the ${used.via ?? 'ledger'})`);
  say(`re-applied what a restore drops: ${list(applied)}; ${restore.settings.skipped} other settings not set on orders or not supported by moto`);

  const [src, dst] = await Promise.all(['orders', RESTORED].map(async (name) => (await ddb.send(new DescribeTableCommand({ TableName: name }))).Table!));
  const diffs: string[] = [];
  const verified: string[] = [];
  /** One aspect of the restored table: verified, or what differed. */
  const compare = (same: boolean, verifiedAs: string, differs: () => string) => {
    if (!same) return diffs.push(differs());
    checksPassed++;
    return verified.push(verifiedAs);
  };
  // Items: every one, every attribute.
  const keyNames = (src.KeySchema ?? []).map((k) => k.AttributeName!);
  const [srcItems, dstItems] = await Promise.all([scanAll(ddb, 'orders'), scanAll(ddb, RESTORED)]);
  const itemDiffs = diffItems(keyNames, srcItems, dstItems);
  compare(itemDiffs.length === 0, `${srcItems.length} items`, () => itemDiffs.join('\n    - '));
  // Key schema and indexes.
  const [a, b] = [schemaOf(src), schemaOf(dst)];
  compare(a.keys === b.keys && a.attributes === b.attributes, 'key schema', () => `key schema: source ${a.keys} (${a.attributes}), restored ${b.keys} (${b.attributes})`);
  compare(a.indexes === b.indexes, `index ${list(a.indexNames)}`, () => `indexes: source ${a.indexes || 'none'}, restored ${b.indexes || 'none'}`);
  // Tags: the source's, without the policy tag (a restored copy must not be backed up as if it
  // were the source; --keep-policy-tag keeps it).
  const tagsOf = async (arn: string) =>
    Object.fromEntries(((await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags ?? []).map((t) => [t.Key!, t.Value!]));
  const [srcTags, dstTags] = await Promise.all([tagsOf(src.TableArn!), tagsOf(dst.TableArn!)]);
  const wantTags = Object.fromEntries(Object.entries(srcTags).filter(([k]) => k !== TAG_KEY));
  const sortTags = (t: Record<string, string>) => JSON.stringify(Object.entries(t).sort(([x], [y]) => x.localeCompare(y)));
  compare(
    sortTags(wantTags) === sortTags(dstTags),
    `tags (${list(Object.keys(wantTags))}; ${TAG_KEY} dropped)`,
    () => `tags: expected ${sortTags(wantTags)} (the source's without ${TAG_KEY}), restored ${sortTags(dstTags)}`,
  );
  // TTL.
  const ttl = async (name: string) => {
    const d = (await ddb.send(new DescribeTimeToLiveCommand({ TableName: name }))).TimeToLiveDescription;
    return `${d?.TimeToLiveStatus ?? 'DISABLED'}${d?.AttributeName ? ` on ${d.AttributeName}` : ''}`;
  };
  const [srcTtl, dstTtl] = await Promise.all([ttl('orders'), ttl(RESTORED)]);
  compare(srcTtl === dstTtl, `TTL (${dstTtl.replace('ENABLED ', '')})`, () => `TTL: source ${srcTtl}, restored ${dstTtl}`);
  // Stream.
  const stream = (t: typeof src) => (t.StreamSpecification?.StreamEnabled ? (t.StreamSpecification.StreamViewType ?? 'on') : 'off');
  compare(stream(src) === stream(dst), `stream (${stream(dst)})`, () => `stream: source ${stream(src)}, restored ${stream(dst)}`);
  // Point-in-time recovery.
  const pitr = async (name: string) => {
    const d = (await ddb.send(new DescribeContinuousBackupsCommand({ TableName: name }))).ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
    return d?.PointInTimeRecoveryStatus === 'ENABLED' ? `${d.RecoveryPeriodInDays ?? 35} days` : 'off';
  };
  const [srcPitr, dstPitr] = await Promise.all([pitr('orders'), pitr(RESTORED)]);
  compare(srcPitr === dstPitr, `PITR (${dstPitr})`, () => `PITR: source ${srcPitr}, restored ${dstPitr}`);
  // Billing mode: moto reports a restored table's as {}, which says nothing either way.
  const srcBilling = src.BillingModeSummary?.BillingMode ?? 'PROVISIONED';
  const dstBilling = dst.BillingModeSummary?.BillingMode;
  if (dstBilling === undefined) say('billing mode: moto does not report it for a restored table, so it is not compared');
  else compare(dstBilling === srcBilling, `billing mode ${dstBilling}`, () => `billing mode: source ${srcBilling}, restored ${dstBilling}`);
  check(diffs.length === 0, `the restored table differs from orders`, diffs);
  say(`restore verified: ${verified.join(', ')} (${took()})`);
}

/** The demo's AWS settings, for this process and every CLI it starts: moto, never a real account. */
function useLocalAws(endpoint: string): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_') || k.startsWith('DDB_BACKUP_')) delete process.env[k];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'demo',
    AWS_SECRET_ACCESS_KEY: 'demo',
    // No profile, config or credentials file of the operator's is read.
    AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_NO_WARNINGS: '1',
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  let moto: MotoServer | undefined;
  let failure: unknown;
  const cleanUp = () => {
    stopCliNow();
    stopAllNow();
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      out();
      out(`interrupted (${signal}): stopping moto server`);
      cleanUp();
      process.exit(code);
    });
  }

  out('ddb-backup demo: a full backup cycle on a local AWS stand-in (moto server), no AWS account needed.');
  out('Every `ddb-backup` command below runs the real CLI (bin/ddb-backup.js, as `npx ddb-backup` does).');
  try {
    step('Start moto server on a loopback port');
    const python = process.env.MOTO_PYTHON || 'python3';
    ensureMoto(python, say);
    moto = await startMoto(python, portFromEnv(process.env.MOTO_PORT));
    useLocalAws(moto.endpoint);
    say(`moto server at ${moto.endpoint} (${took()})`);
    say(`export AWS_ENDPOINT_URL=${moto.endpoint} AWS_REGION=${REGION} AWS_DEFAULT_REGION=${REGION} AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo`);

    await demo(moto);
  } catch (err) {
    failure = err;
  } finally {
    if (moto) {
      await moto.stop();
      out();
      out(`moto server stopped.`);
    }
    cleanUp();
  }
  out();
  if (failure === undefined) {
    out(`Demo passed: every step verified (${checksPassed} checks) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    return 0;
  }
  if (failure instanceof DemoFailure) {
    out(`Demo FAILED at step ${stepNo}/${STEPS}: ${failure.message}`);
    for (const d of failure.details) out(`    - ${d}`);
  } else {
    const why = failure instanceof Error ? (failure.name && failure.name !== 'Error' ? `${failure.name}: ${failure.message}` : failure.message) : String(failure);
    out(`Demo FAILED at step ${stepNo}/${STEPS}: ${why}`);
  }
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  },
);
