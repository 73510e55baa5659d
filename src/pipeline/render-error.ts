// The error of a value that cannot be turned into the target: its message names the key, never the value.
import { FerryError } from '../errors.ts';

export class RenderError extends FerryError {
  constructor(message: string) {
    super('Render', message);
    this.name = 'RenderError';
  }
}
