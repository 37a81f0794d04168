import { ledgerContract } from '../support/ledger-contract';
import { MemoryLedger } from '../support/memory-ledger';

ledgerContract('in-memory', async () => ({ ledger: new MemoryLedger(), table: 'orders' }));
