import { Ledger } from '../../lambda/aws/ledger';
import { testClients, uniqueName } from '../support/aws';
import { ledgerContract } from '../support/ledger-contract';

const clients = testClients();
const ledgerTable = uniqueName('ledger-contract');
const ledger = new Ledger(clients.dynamodb, ledgerTable);

beforeAll(async () => {
  await ledger.init();
}, 60_000);

ledgerContract('DynamoDB (moto)', async () => ({ ledger, table: uniqueName('t') }));
