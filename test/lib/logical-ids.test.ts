import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../bin/ddb-backup-app';
import { appProps } from './helpers';

/**
 * The logical IDs of the deployed stacks (cdk.json config). A resource whose logical ID changes is
 * replaced on deploy: a new queue (the jobs in the old one are lost), a second event source
 * mapping on the job queue (refused by Lambda), an SSM parameter whose name already exists
 * (refused), a second worker reserving its concurrency, a new log group beside the retained one.
 * New resources may be added; these must stay.
 */
const STATE_IDS = {
  'AWS::KMS::Key': ['StateKeyCC9D02A8'],
  'AWS::DynamoDB::Table': ['StateLedger42828485'],
  'AWS::SNS::Topic': ['StateTopic7C053769'],
  'AWS::SNS::TopicPolicy': ['StateTopicPolicyFC98569D'],
};

const SERVICE_IDS = {
  'AWS::SSM::Parameter': ['ServicePolicyhourly126C31E8', 'ServicePolicydaily72501501', 'ServicePolicyweekly23825669'],
  'AWS::SQS::Queue': [
    'ServiceJobDeadLetterQueue3F945666',
    'ServiceJobQueue963EB1AF',
    'ServiceTriggerDeadLetterQueueC0198A45',
    'ServiceChangeTriggerStreamFailureQueueA193855C',
  ],
  'AWS::SQS::QueuePolicy': [
    'ServiceJobDeadLetterQueuePolicy4AEAF07D',
    'ServiceJobQueuePolicyA02B0EA9',
    'ServiceTriggerDeadLetterQueuePolicy41DBA11C',
    'ServiceChangeTriggerStreamFailureQueuePolicy9B7605C6',
  ],
  'AWS::Lambda::EventSourceMapping': ['ServiceWorkerSqsEventSourceDdbBackupServiceJobQueue280067707F7FD57C'],
  'AWS::Lambda::Function': [
    'ServicePlannerF7206477',
    'ServiceWorker602DC8A6',
    'ServiceSizeTriggerProbeE294D17A',
    'ServiceChangeTriggerStreamHandler420F992B',
    'ServiceChangeTriggerStreamReconciler77E4F95C',
    'ServiceDigestACF68786',
  ],
  'AWS::Logs::LogGroup': [
    'ServicePlannerLogGroupD5A19370',
    'ServiceWorkerLogGroup993F5B76',
    'ServiceSizeTriggerProbeLogGroupD5B21129',
    'ServiceChangeTriggerStreamHandlerLogGroup71A637AE',
    'ServiceChangeTriggerStreamReconcilerLogGroup64C44E0D',
    'ServiceDigestLogGroupBAE41327',
  ],
  'AWS::IAM::Role': [
    'ServicePlannerRoleEF1A5D3A',
    'ServiceWorkerRoleFF76327B',
    'ServiceSizeTriggerProbeRole38732479',
    'ServiceChangeTriggerStreamHandlerRole398C0F7B',
    'ServiceChangeTriggerStreamReconcilerRole6FD12330',
    'ServiceDigestRole7262242D',
  ],
  'AWS::IAM::Policy': [
    'ServicePlannerRoleDefaultPolicy49D2DB25',
    'ServiceWorkerRoleDefaultPolicyECBC0DCE',
    'ServiceSizeTriggerProbeRoleDefaultPolicy9637B455',
    'ServiceChangeTriggerStreamHandlerRoleDefaultPolicyB3DDEE6B',
    'ServiceChangeTriggerStreamReconcilerRoleDefaultPolicyFABDD08E',
    'ServiceDigestRoleDefaultPolicyD9E0EAC6',
  ],
  'AWS::Events::Rule': [
    'ServiceSchedulehourlyA227E829',
    'ServicePrunehourly0AD927D8',
    'ServiceScheduledailyFEC18C8A',
    'ServicePrunedaily7EB15373',
    'ServiceScheduleweekly0E6ED02C',
    'ServicePruneweekly981E5CB2',
    'ServiceSizeTriggerProbeSchedule2ACCBAA9',
    'ServiceSizeTriggerSizeAlarmToPlanner8E48FBB3',
    'ServiceChangeTriggerReconcileScheduleF64087B5',
    'ServiceDigestSchedule3A3FB9E7',
  ],
  'AWS::Lambda::Permission': [
    'ServiceSchedulehourlyAllowEventRuleDdbBackupServicePlanner99D2501CE85BEC95',
    'ServicePrunehourlyAllowEventRuleDdbBackupServicePlanner99D2501CAF53FBD5',
    'ServiceScheduledailyAllowEventRuleDdbBackupServicePlanner99D2501C623DA79B',
    'ServicePrunedailyAllowEventRuleDdbBackupServicePlanner99D2501C28A75425',
    'ServiceScheduleweeklyAllowEventRuleDdbBackupServicePlanner99D2501C3D2A47DC',
    'ServicePruneweeklyAllowEventRuleDdbBackupServicePlanner99D2501C185F2FF6',
    'ServiceSizeTriggerProbeScheduleAllowEventRuleDdbBackupServiceSizeTriggerProbe161D8DB7FA86FDB7',
    'ServiceSizeTriggerSizeAlarmToPlannerAllowEventRuleDdbBackupServicePlanner99D2501CDF2CF106',
    'ServiceChangeTriggerReconcileScheduleAllowEventRuleDdbBackupServiceChangeTriggerStreamReconciler71EDD1A6327BD3F9',
    'ServiceDigestScheduleAllowEventRuleDdbBackupServiceDigest496A118243FAA24A',
  ],
  'AWS::CloudWatch::Alarm': [
    'ServiceJobDeadLetterAlarmD51E33F0',
    'ServiceTriggerDeadLetterAlarmF954B3DF',
    'ServiceChangeTriggerStreamFailureAlarmC6079D28',
    'ServiceChangeTriggerReconcilerErrorAlarmA08C2173',
    'ServiceNotifyFailureAlarmA9FD2279',
  ],
  'AWS::Logs::MetricFilter': [
    'ServiceNotifyFailureAlarmPlannerFilterFB39626E',
    'ServiceNotifyFailureAlarmWorkerFilter94F61B32',
    'ServiceNotifyFailureAlarmDigestFilter752D1614',
  ],
};

describe('logical IDs of the deployed stacks', () => {
  const { stateStack, serviceStack } = createApp(appProps());

  it.each([
    ['state', () => stateStack, STATE_IDS],
    ['service', () => serviceStack, SERVICE_IDS],
  ] as const)('keeps every logical ID of the %s stack', (_name, stack, expected) => {
    // Prepare / Act
    const template = Template.fromStack(stack());

    // Assess
    for (const [type, ids] of Object.entries(expected)) {
      expect({ type, ids: Object.keys(template.findResources(type)) }).toEqual({ type, ids: expect.arrayContaining(ids) });
    }
  });
});
