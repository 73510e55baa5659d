import { describe, expect, it } from 'vitest';
import { MemoryBudget, MemoryBudgetError } from './memory-budget.ts';

describe('MemoryBudget', () => {
  it('admits what fits with the headroom asked, and says what is in use when it does not', () => {
    const budget = new MemoryBudget(40 * 1024);
    budget.reserve(12 * 1024, 'a', 12 * 1024);
    budget.reserve(12 * 1024, 'b', 12 * 1024);
    expect(() => budget.reserve(12 * 1024, 'the volume of pod ns/c', 12 * 1024)).toThrow(MemoryBudgetError);
    expect(() => budget.reserve(12 * 1024, 'the volume of pod ns/c', 12 * 1024)).toThrow(
      /the volume of pod ns\/c needs 12 KiB .*, of which 24 KiB of 40 KiB is in use \(csi-node --volume-memory/,
    );
    // Without headroom (a rotation) the last 16 KiB are usable.
    budget.reserve(12 * 1024, 'rotation');
    expect(budget.usedBytes).toBe(36 * 1024);
    budget.release(36 * 1024);
    budget.release(1);
    expect(budget.usedBytes).toBe(0);
    budget.claim(64 * 1024);
    expect(budget.usedBytes).toBe(64 * 1024);
  });
});
