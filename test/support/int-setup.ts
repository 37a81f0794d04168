// Integration tests talk to moto over HTTP: give them room, without hiding real hangs.
jest.setTimeout(60_000);
// The handlers' structured logs are for CloudWatch; keep test output readable.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
