// The error of a value that cannot be turned into the target: its message names the key, never the value.
export class RenderError extends Error {
  override name = 'RenderError';
}
