// Loaded into the benchmark's controller process with `--expose-gc --import`: on SIGUSR2 it runs
// a full garbage collection and writes the process's memory figures to $FERRY_BENCH_PROBE, so the
// benchmark reads the heap that live objects hold, not what garbage happens to be around.
// Benchmark-only: the product never loads it.
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const out = process.env.FERRY_BENCH_PROBE;
const gc = (globalThis as { gc?: () => void }).gc;

if (out && gc) {
  process.on('SIGUSR2', () => {
    gc();
    gc();
    const mem = process.memoryUsage();
    const heap = getHeapStatistics();
    writeFileSync(
      out,
      JSON.stringify({
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
        usedHeapSize: heap.used_heap_size,
        at: Date.now(),
      }),
    );
  });
}
