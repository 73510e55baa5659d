// Waiting on an AbortSignal as a promise, for loops that race their work against shutdown.

/** Resolves when `signal` aborts (at once if it already has); never rejects. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
