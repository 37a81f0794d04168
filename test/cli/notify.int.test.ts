/**
 * `ddb-backup run` when the run summary cannot be published: the results are still printed, and
 * the exit code and stderr name the notification failure (spawned CLI against moto).
 */
import { createTable, makeEnv, putPolicyRaw, readNotifications, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

interface RunJson {
  runId: string;
  results: { table: string; policy: string; status: string; reason?: string }[];
  problems: unknown[];
  notification?: { published: boolean; messageId?: string; error?: string };
  calls: Record<string, number>;
}

describe('ddb-backup run: the notification outcome (spawned) against moto', () => {
  let env: TestEnv;
  let untagged: string;
  let missingTopic: string;

  beforeAll(async () => {
    env = await makeEnv('notify');
    // A run with a failure, so a summary is due: --table names a table without the policy's tag.
    await putPolicyRaw(env, 'ok', JSON.stringify({ schedule: 'rate(1 day)' }));
    untagged = uniqueName('cli-untagged');
    await createTable(env, untagged);
    missingTopic = env.topicArn.replace(/:[^:]+$/, `:${uniqueName('no-such-topic')}`);
  });

  it('--json: a topic that does not exist still prints the results, with the notification failure; exit code 1', async () => {
    // Act
    const res = await cli(env, ['run', '--policy', 'ok', '--table', untagged, '--json', '--topic-arn', missingTopic]);

    // Assess
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as RunJson;
    expect(out.results).toEqual([expect.objectContaining({ table: untagged, policy: 'ok', status: 'failed' })]);
    expect(out.notification).toEqual({ published: false, error: expect.stringMatching(/NotFound/) });
    expect(out).toHaveProperty('calls');
    expect(res.stderr).toContain('notification failed');
    expect(res.stderr).toContain(missingTopic);
  });

  it('without --json: the same exit code and stderr line, after the results table', async () => {
    // Act
    const res = await cli(env, ['run', '--policy', 'ok', '--table', untagged, '--topic-arn', missingTopic]);

    // Assess
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(untagged);
    expect(res.stdout).toContain('0 backed up, 0 skipped, 1 failed');
    expect(res.stderr).toMatch(/notification failed: the run summary was not published to \S+: .*NotFound/);
  });

  it('--json with a real topic: notification.published is true with the MessageId, and the summary arrives', async () => {
    // Act
    const res = await cli(env, ['run', '--policy', 'ok', '--table', untagged, '--json', '--topic-arn', env.topicArn]);

    // Assess
    expect(res.code).toBe(1); // the run has a failed result
    const out = JSON.parse(res.stdout) as RunJson;
    expect(out.notification).toEqual({ published: true, messageId: expect.any(String) });
    expect(res.stderr).not.toContain('notification failed');
    const notes = await readNotifications(env, { waitForAtLeast: 1 });
    expect(notes).toHaveLength(1);
    expect(notes[0].subject).toContain('FAILED: ok (manual)');
  });
});
