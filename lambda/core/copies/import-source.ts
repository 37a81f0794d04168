/**
 * Where a copy's data is, for ImportTable: the `data/` prefix of its export, from the export's
 * `manifest-files.json` when it wrote one (DynamoDB does), else from the keys found under the
 * copy's prefix. Pure.
 */

/** A copy's data cannot be located under its prefix. */
export class CopyDataNotFoundError extends Error {
  override readonly name = 'CopyDataNotFoundError';
}

/** The export id at the end of an export ARN (`.../export/<id>`), or undefined. */
export function exportIdOf(exportArn: string | undefined): string | undefined {
  const m = /\/export\/([^/]+)$/.exec(exportArn ?? '');
  return m?.[1];
}

/** The manifest of data files among the keys: the export's own when it can be told, else the only one. */
export function manifestKey(keys: readonly string[], exportArn?: string): string | undefined {
  const manifests = keys.filter((k) => k.endsWith('/manifest-files.json'));
  const id = exportIdOf(exportArn);
  return manifests.find((k) => id !== undefined && k.includes(`/AWSDynamoDB/${id}/`)) ?? (manifests.length === 1 ? manifests[0] : undefined);
}

/** The data files a manifest lists (one JSON object per line, `dataFileS3Key`). */
export function manifestDataKeys(manifest: string): string[] {
  return manifest
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { dataFileS3Key?: string }).dataFileS3Key)
    .filter((k): k is string => typeof k === 'string' && k.length > 0);
}

function dataDir(key: string): string | undefined {
  const i = key.lastIndexOf('/data/');
  return i < 0 ? undefined : key.slice(0, i + '/data/'.length);
}

/**
 * The S3 key prefix to import from: the one `data/` directory of the copy's export. `manifest`
 * (the text of manifest-files.json) wins when given; otherwise the data keys found by listing.
 */
export function importKeyPrefix(copy: { readonly prefix: string; readonly exportArn?: string }, keys: readonly string[], manifest?: string): string {
  const fromManifest = manifest ? manifestDataKeys(manifest) : [];
  const dataKeys = (fromManifest.length > 0 ? fromManifest : keys).filter((k) => k.startsWith(`${copy.prefix}/`) && !k.endsWith('/'));
  const dirs = [...new Set(dataKeys.map(dataDir).filter((d): d is string => d !== undefined))];
  const id = exportIdOf(copy.exportArn);
  const own = dirs.find((d) => id !== undefined && d.endsWith(`/AWSDynamoDB/${id}/data/`));
  if (own) return own;
  if (dirs.length === 1) return dirs[0];
  if (dirs.length === 0) throw new CopyDataNotFoundError(`no data files under s3 prefix ${copy.prefix}/ (is the export complete, and the bucket the copy's?)`);
  throw new CopyDataNotFoundError(`more than one export's data under ${copy.prefix}/: ${dirs.join(', ')}`);
}
