// Which files a volume holds: the rendered keys laid out by the ExternalSecret's target.files
// (every key as a file named after it, or only the listed items at their paths and modes).
import type { ExternalSecretSpec } from '../../api/v1alpha1/external-secret.ts';
import { FerryError } from '../../errors.ts';
import type { SecretData } from '../../values.ts';
import { checkLayout, type FileEntry } from './atomic-writer.ts';

export const DEFAULT_FILE_MODE = 0o644;

/** target.files cannot lay the keys out (a key it lists is missing, two paths collide). */
export class FileMappingError extends FerryError {
  constructor(message: string) {
    super('FileLayout', message);
  }
}

export function volumeFiles(spec: ExternalSecretSpec, data: SecretData): FileEntry[] {
  const layout = spec.target?.files;
  const defaultMode = layout?.defaultMode ?? DEFAULT_FILE_MODE;
  const entries: FileEntry[] = layout?.items
    ? layout.items.map((item) => {
        const value = data.get(item.key);
        if (!value) {
          throw new FileMappingError(`spec.target.files.items: key "${item.key}" is not in the rendered data`);
        }
        return { path: item.path, bytes: value.reveal(), mode: item.mode ?? defaultMode };
      })
    : [...data].map(([key, value]) => ({ path: key, bytes: value.reveal(), mode: defaultMode }));
  try {
    checkLayout(entries);
  } catch (err) {
    throw new FileMappingError(`spec.target.files: ${(err as Error).message}`);
  }
  return entries;
}
